package fetch

import (
	"net/url"
	"strings"
	"testing"
)

// Every trace in the catalog is complete: a unique name, a title, the
// publisher's page, what is checked and what to cite; every file a URL of
// the publisher, a well-formed sha256 when one is given, and a unique
// local name.
func TestCatalog(t *testing.T) {
	names := map[string]bool{}
	for _, tr := range Catalog() {
		if names[tr.Name] || tr.Name == "" {
			t.Errorf("trace name %q empty or repeated", tr.Name)
		}
		names[tr.Name] = true
		if tr.Title == "" || tr.Checks == "" || tr.Cite == "" || !strings.HasPrefix(tr.Home, "https://") || len(tr.Tables) == 0 {
			t.Errorf("%s: incomplete: %+v", tr.Name, tr)
		}
		if _, err := Lookup(tr.Name); err != nil {
			t.Error(err)
		}
		if (tr.Sums == "") != (tr.Base == "") {
			t.Errorf("%s: Sums %q and Base %q go together", tr.Name, tr.Sums, tr.Base)
		}
		local := map[string]bool{}
		tables := map[string]bool{}
		for _, tb := range tr.Tables {
			if tables[tb.Name] || tb.Name == "" {
				t.Errorf("%s: table %q empty or repeated", tr.Name, tb.Name)
			}
			tables[tb.Name] = true
			if tr.Sums == "" && len(tb.Files) == 0 && tb.Shards == "" {
				t.Errorf("%s/%s: no files", tr.Name, tb.Name)
			}
			if tb.Shards != "" && (!strings.Contains(tb.Shards, "%") || !strings.Contains(tb.ShardName, "%")) {
				t.Errorf("%s/%s: shard patterns %q, %q", tr.Name, tb.Name, tb.Shards, tb.ShardName)
			}
			for _, f := range tb.Files {
				if local[f.Name] || f.Name == "" {
					t.Errorf("%s: local name %q empty or repeated", tr.Name, f.Name)
				}
				local[f.Name] = true
				if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					t.Errorf("%s: bad URL %q", tr.Name, f.URL)
				}
				if f.SHA256 != "" && (len(f.SHA256) != 64 || strings.Trim(f.SHA256, "0123456789abcdef") != "") {
					t.Errorf("%s: bad sha256 %q", tr.Name, f.SHA256)
				}
			}
		}
	}
	for _, want := range []string{"kth-sp2", "nasa-ipsc", "llnl-atlas", "google-2011", "google-2019-a", "google-2019-h",
		"alibaba-2017", "alibaba-2018", "alibaba-pai-2020", "alibaba-openb-2023", "philly"} {
		if !names[want] {
			t.Errorf("no trace %s", want)
		}
	}
	if _, err := Lookup("nosuch"); err == nil || !strings.Contains(err.Error(), "kth-sp2") {
		t.Errorf("Lookup(nosuch): %v; want an error listing the traces", err)
	}
}

// The publishers' addresses and checksums, as documented (the task's
// FORMATS.md and the publishers' pages).
func TestCatalogEntries(t *testing.T) {
	kth, _ := Lookup("kth-sp2")
	if u := kth.Tables[0].Files[0].URL; u != "https://www.cs.huji.ac.il/labs/parallel/workload/l_kth_sp2/KTH-SP2-1996-2.1-cln.swf.gz" {
		t.Errorf("KTH URL %s", u)
	}
	ph, _ := Lookup("philly")
	if n, exact := ph.Size(); n != 1055988361 || !exact || ph.Tables[0].Files[0].SHA256 != "2037ccf63a725a02be718b0e1aeee6142c90b7f62d0d849295120e9f6ba13d2c" {
		t.Errorf("Philly: %d bytes (exact %v), %+v", n, exact, ph.Tables[0].Files[0])
	}
	a18, _ := Lookup("alibaba-2018")
	if n, exact := a18.Size(); exact || n < 49<<30 || n > 51<<30 {
		t.Errorf("Alibaba 2018: %d bytes, exact %v; want about 50 GB, approximate", n, exact)
	}
	g19, _ := Lookup("google-2019-c")
	if u := g19.Tables[1].Shards; u != "https://storage.googleapis.com/clusterdata_2019_c/instance_events-%012d.json.gz" {
		t.Errorf("Google 2019 shards %s", u)
	}
	if _, known := g19.Size(); known {
		t.Error("Google 2019's size is not published")
	}
	pai, _ := Lookup("alibaba-pai-2020")
	for _, tb := range pai.Tables {
		for _, f := range tb.Files {
			if f.SHA256 == "" {
				t.Errorf("PAI %s: no sha256, though every one is published", f.Name)
			}
		}
	}
}
