package master

import (
	"net/http"
	"time"

	"github.com/apronlab/apron/runtime/master/core"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// cycleBuckets are the allocation cycle time histogram's upper bounds.
var cycleBuckets = []float64{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// cycleStats time the allocation cycles.
type cycleStats struct {
	n       uint64
	last    time.Duration
	sum     time.Duration
	buckets []uint64
}

func (s *cycleStats) observe(d time.Duration) {
	s.n++
	s.last = d
	s.sum += d
	for i, b := range cycleBuckets {
		if d.Seconds() <= b {
			s.buckets[i]++
		}
	}
}

// collector exports the master's figures to Prometheus at scrape time.
type collector struct{ m *Master }

var (
	descCycle     = prometheus.NewDesc("apron_master_allocation_cycle_seconds", "Time one allocation cycle took.", nil, nil)
	descLastCycle = prometheus.NewDesc("apron_master_allocation_last_cycle_seconds", "Time the last allocation cycle took.", nil, nil)
	descEvents    = prometheus.NewDesc("apron_master_events_total", "Offers made, rescinded and declined, accepts, tasks launched, dropped and refused, agents lost.", []string{"event"}, nil)
	descTasks     = prometheus.NewDesc("apron_master_tasks", "Tasks by state (finished ones counted since the master started).", []string{"state"}, nil)
	descAgents    = prometheus.NewDesc("apron_master_agents", "Agents by state.", []string{"state"}, nil)
	descFws       = prometheus.NewDesc("apron_master_frameworks", "Frameworks, connected or not.", []string{"connected"}, nil)
	descResources = prometheus.NewDesc("apron_master_resources", "Cluster resources: total, used by tasks and offered.", []string{"resource", "kind"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCycle, descLastCycle, descEvents, descTasks, descAgents, descFws, descResources} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	if m.rep != nil {
		m.rep.collect(ch)
	}
	if m.core == nil {
		m.mu.Unlock()
		return
	}
	st := m.core.Summary() // the counts and views, not the task lists
	s := m.core.Stats()
	cy := m.cycles
	buckets := map[float64]uint64{}
	for i, b := range cycleBuckets {
		buckets[b] = cy.buckets[i]
	}
	overflow := m.overflow
	m.mu.Unlock()
	ch <- prometheus.MustNewConstHistogram(descCycle, cy.n, cy.sum.Seconds(), buckets)
	ch <- prometheus.MustNewConstMetric(descLastCycle, prometheus.GaugeValue, cy.last.Seconds())
	for name, v := range map[string]uint64{"offer": s.Offers, "rescind": s.Rescinded, "decline": s.Declined, "accept": s.Accepted,
		"launch": s.Launched, "drop": s.Dropped, "invalid": s.Invalid, "agent_lost": s.AgentsLost, "refused": s.Refused, "call_dropped": s.CallsDropped, "stream_overflow": overflow} {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(v), name)
	}
	for state, n := range st.TaskCounts {
		ch <- prometheus.MustNewConstMetric(descTasks, prometheus.GaugeValue, float64(n), state)
	}
	agents := map[string]int{core.AgentActive: 0, core.AgentUnreachable: 0}
	for _, a := range st.Agents {
		agents[a.State]++
	}
	for state, n := range agents {
		ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(n), state)
	}
	fws := map[string]int{"true": 0, "false": 0}
	for _, f := range st.Frameworks {
		fws[map[bool]string{true: "true", false: "false"}[f.Connected]]++
	}
	for k, n := range fws {
		ch <- prometheus.MustNewConstMetric(descFws, prometheus.GaugeValue, float64(n), k)
	}
	for kind, a := range map[string]Amounts{"total": st.Resources.Total, "used": st.Resources.Used, "offered": st.Resources.Offered} {
		for name, v := range a {
			ch <- prometheus.MustNewConstMetric(descResources, prometheus.GaugeValue, v, name, kind)
		}
	}
}

func (m *Master) serveMetrics(w http.ResponseWriter, r *http.Request) {
	m.metricsOnce.Do(func() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collector{m})
		m.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	})
	m.metrics.ServeHTTP(w, r)
}
