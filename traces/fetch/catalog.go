package fetch

import (
	"fmt"
	"slices"
	"strings"
)

// A File is one file of a trace as its publisher serves it.
type File struct {
	Name   string // path under the trace's folder, slash-separated
	URL    string
	Size   int64  // exact size in bytes, as published, checked; 0 when not published
	About  int64  // approximate size the publisher documents, shown only; 0 when unknown
	SHA256 string // sha256 (hex) as published, checked; "" when none is published
}

// A Table is a table of a trace: files listed, or numbered shards found
// at fetch time.
type Table struct {
	Name  string
	Files []File
	// Shards, when not empty, is the fmt pattern (with one integer verb)
	// of the URLs of numbered part files, fetched from 0 up to the first
	// that the server answers 404 Not Found, as their count is not
	// published; ShardName is the pattern of their local names.
	Shards, ShardName string
}

// A Trace is a public trace that Fetch downloads.
type Trace struct {
	Name   string // what apron trace fetch is given
	Title  string
	Home   string // the publisher's page
	About  string // the documented total size, when the files' sizes do not say it
	Checks string // how the files are checked, in words
	Cite   string // what the publisher asks users to cite or acknowledge
	Tables []Table
	// Sums, when set, is the URL of a sha256sum-format list of the trace's
	// files with their checksums, as Google publishes for 2011: the files
	// are the ones it lists, under Base, and a table is the first folder
	// of their paths. Tables then only names them.
	Sums, Base string
}

// Size returns the known total size and whether it is exact: published
// sizes add up exactly, documented approximate ones make it approximate;
// 0 when some file's size is not known at all.
func (t Trace) Size() (int64, bool) {
	var n int64
	exact := true
	for _, tb := range t.Tables {
		if tb.Shards != "" || t.Sums != "" {
			return 0, false
		}
		for _, f := range tb.Files {
			switch {
			case f.Size > 0:
				n += f.Size
			case f.About > 0:
				n, exact = n+f.About, false
			default:
				return 0, false
			}
		}
	}
	return n, exact
}

// TableNames returns the names of the trace's tables.
func (t Trace) TableNames() []string {
	var names []string
	for _, tb := range t.Tables {
		names = append(names, tb.Name)
	}
	return names
}

// Lookup returns the trace of that name.
func Lookup(name string) (Trace, error) {
	cat := Catalog()
	i := slices.IndexFunc(cat, func(t Trace) bool { return t.Name == name })
	if i < 0 {
		var names []string
		for _, t := range cat {
			names = append(names, t.Name)
		}
		return Trace{}, fmt.Errorf("no trace named %q; known: %s (apron trace fetch --list describes them)", name, strings.Join(names, ", "))
	}
	return cat[i], nil
}

// Catalog returns the traces that can be fetched.
func Catalog() []Trace {
	var cat []Trace
	cat = append(cat, pwaLogs()...)
	cat = append(cat, google2011())
	cat = append(cat, google2019()...)
	return append(cat, alibaba2017(), alibaba2018(), pai2020(), openb2023(), philly())
}

const pwa = "https://www.cs.huji.ac.il/labs/parallel/workload/"

// pwaLogs are well-known cleaned logs of the Parallel Workloads Archive.
func pwaLogs() []Trace {
	logs := []struct{ name, dir, file, title, ack string }{
		{"kth-sp2", "l_kth_sp2", "KTH-SP2-1996-2.1-cln.swf.gz", "KTH SP2 (IBM SP2, 100 nodes, EASY backfilling), 1996–97, cleaned", "Lars Malinowsky"},
		{"nasa-ipsc", "l_nasa_ipsc", "NASA-iPSC-1993-3.1-cln.swf.gz", "NASA Ames iPSC/860 (128 nodes), 1993, cleaned", "Bill Nitzberg"},
		{"llnl-atlas", "l_llnl_atlas", "LLNL-Atlas-2006-2.1-cln.swf.gz", "LLNL Atlas (1,152 nodes, Slurm), 2006–07, cleaned", "Moe Jette, LLNL"},
		{"sdsc-sp2", "l_sdsc_sp2", "SDSC-SP2-1998-4.2-cln.swf.gz", "SDSC SP2 (128 processors), 1998–2000, cleaned", ""},
		{"ctc-sp2", "l_ctc_sp2", "CTC-SP2-1996-3.1-cln.swf.gz", "Cornell Theory Center SP2 (512 nodes), 1996–97, cleaned", ""},
		{"hpc2n", "l_hpc2n", "HPC2N-2002-2.2-cln.swf.gz", "HPC2N Linux cluster (240 processors), 2002–06, cleaned", ""},
		{"sdsc-blue", "l_sdsc_blue", "SDSC-BLUE-2000-4.2-cln.swf.gz", "SDSC Blue Horizon (1,152 processors), 2000–03, cleaned", ""},
		{"anl-intrepid", "l_anl_int", "ANL-Intrepid-2009-1.swf.gz", "ANL Intrepid (Blue Gene/P, 163,840 cores), 2009", ""},
		{"cea-curie", "l_cea_curie", "CEA-Curie-2011-2.1-cln.swf.gz", "CEA Curie (93,312 cores), 2011–12, cleaned", ""},
		{"ricc", "l_ricc", "RICC-2010-2.swf.gz", "RIKEN RICC (8,192 cores), 2010", ""},
		{"kit-fh2", "l_kit_fh2", "KIT-FH2-2016-1.swf.gz", "KIT ForHLR II, 2016–18", ""},
	}
	var out []Trace
	for _, l := range logs {
		ack := "the log's provider, named on its page and in its `; Acknowledge:` header line"
		if l.ack != "" {
			ack = l.ack + " (the log's `; Acknowledge:` line)"
		}
		out = append(out, Trace{
			Name:   l.name,
			Title:  "Parallel Workloads Archive: " + l.title + " (SWF)",
			Home:   pwa + l.dir + "/index.html",
			Checks: "none: the archive publishes no checksum or size",
			Cite: "D. G. Feitelson, D. Tsafrir and D. Krakov, \"Experience with using the Parallel Workloads Archive\", JPDC 74(10), 2014; acknowledge " +
				ack,
			Tables: []Table{{Name: "log", Files: []File{{Name: l.file, URL: pwa + l.dir + "/" + l.file}}}},
		})
	}
	return out
}

func google2011() Trace {
	const base = "https://storage.googleapis.com/clusterdata-2011-2/"
	var tables []Table
	for _, n := range []string{"job_events", "task_events", "task_usage", "task_constraints", "machine_events", "machine_attributes"} {
		tables = append(tables, Table{Name: n})
	}
	return Trace{
		Name:   "google-2011",
		Title:  "Google cluster-usage trace 2011 (clusterdata-2011-2): one 12.5k-machine Borg cell, 29 days, gzipped CSV parts",
		Home:   "https://github.com/google/cluster-data/blob/master/ClusterData2011_2.md",
		About:  "about 41 GB",
		Checks: "sha256 of every file, from the SHA256SUM file Google publishes in the bucket",
		Cite:   "CC BY 4.0; C. Reiss, J. Wilkes and J. L. Hellerstein, \"Google cluster-usage traces: format + schema\", Google, 2011",
		Sums:   base + "SHA256SUM",
		Base:   base,
		Tables: tables,
	}
}

func google2019() []Trace {
	var out []Trace
	for _, cell := range "abcdefgh" {
		base := fmt.Sprintf("https://storage.googleapis.com/clusterdata_2019_%c/", cell)
		var tables []Table
		for _, n := range []string{"collection_events", "instance_events", "instance_usage", "machine_events", "machine_attributes"} {
			tables = append(tables, Table{Name: n, Shards: base + n + "-%012d.json.gz", ShardName: n + "-%012d.json.gz"})
		}
		out = append(out, Trace{
			Name:   fmt.Sprintf("google-2019-%c", cell),
			Title:  fmt.Sprintf("Google cluster-usage trace 2019 (clusterdata_2019), Borg cell %c, May 2019, gzipped JSON shards", cell),
			Home:   "https://github.com/google/cluster-data/blob/master/ClusterData2019.md",
			About:  "about 300 GB a cell (2.4 TiB for the 8 cells)",
			Checks: "size, and the MD5 that Google Cloud Storage sends with each shard (x-goog-hash) when it arrives in one piece; no checksum list is published, and the shard count is found by fetching until a 404",
			Cite:   "CC BY 4.0; J. Wilkes, \"Google cluster-usage traces v3\", Google, 2020; M. Tirmazi et al., \"Borg: the Next Generation\", EuroSys 2020",
			Tables: tables,
		})
	}
	return out
}

func alibaba2017() Trace {
	return Trace{
		Name:   "alibaba-2017",
		Title:  "Alibaba cluster-trace-v2017: about 1.3k machines, online services and batch jobs, 24 hours",
		Home:   "https://github.com/alibaba/clusterdata/tree/master/cluster-trace-v2017",
		Checks: "none: the published SHA256SUM names trace_201708.tgz, not the file served now, and no size is published",
		Cite:   "research or study use; report publications to alibaba-clusterdata@list.alibaba-inc.com",
		Tables: []Table{{Name: "all", Files: []File{{Name: "alibaba-trace-2017.tar.gz",
			URL: "http://aliopentrace.oss-cn-beijing.aliyuncs.com/v2017Traces/alibaba-trace-2017.tar.gz"}}}},
	}
}

func alibaba2018() Trace {
	const base = "http://aliopentrace.oss-cn-beijing.aliyuncs.com/v2018Traces/"
	const k, m, g = 1 << 10, 1 << 20, 1 << 30
	files := []struct {
		name, sum string
		about     int64
	}{
		{"machine_meta", "b5b1b786b22cd413a3674b8f2ebfb2f02fac991c95df537f363ef2797c8f6d55", 92 * k},
		{"machine_usage", "3e6ee87fd204bb85b9e234c5c75a5096580fdabc8f085b224033080090753a7a", 17 * g / 10},
		{"container_meta", "febd75e693d1f208a8941395e7faa7e466e50d21c256eff12a815b7e2fa2053f", 24 * m / 10},
		{"container_usage", "b4bd3b1b82f5407c1b0dd47fe736ff5152c4b016a9c30cb26f988e2d1c5e5031", 28 * g},
		{"batch_task", "7c4b32361bd1ec2083647a8f52a6854a03bc125ca5c202652316c499fbf978c6", 125 * m},
		{"batch_instance", "e73e5a9326669aa079ba20048ddd759383cabe1fe3e58620aa75bd034e2450c6", 20 * g},
	}
	var tables []Table
	for _, f := range files {
		tables = append(tables, Table{Name: f.name, Files: []File{{Name: f.name + ".tar.gz", URL: base + f.name + ".tar.gz", SHA256: f.sum, About: f.about}}})
	}
	return Trace{
		Name:   "alibaba-2018",
		Title:  "Alibaba cluster-trace-v2018: about 4,000 machines, 8 days, batch DAGs and online containers",
		Home:   "https://github.com/alibaba/clusterdata/blob/master/cluster-trace-v2018/trace_2018.md",
		Checks: "sha256 of each tar.gz as published in cluster-trace-v2018/trace_2018.md (sizes there are approximate)",
		Cite:   "research or study use; report publications to alibaba-clusterdata@list.alibaba-inc.com",
		Tables: tables,
	}
}

// clusterdata pins alibaba/clusterdata at the commit the samples came from.
const clusterdata = "https://raw.githubusercontent.com/alibaba/clusterdata/7a6c496e4f4b6ce6150be8f881cb051bf2abff42/"

func pai2020() Trace {
	const base = "https://aliopentrace.oss-cn-beijing.aliyuncs.com/v2020GPUTraces/"
	const k, m = 1 << 10, 1 << 20
	tables := []struct {
		name, sum, headerSum string
		size, about, header  int64
	}{
		{"pai_job_table", "5aad7f7caac501136d14ed6a48e40546f825d7b0617a3a4f337e2348fe0a6cb0", "3ac33aefab9a4d81338794fa145fe280594a379444961a9c639f00181c508567", 0, 60 * m, 49},
		{"pai_task_table", "cd1d6dc3215d2a8607ccf6b6dd952b5db776df86926c73259fea7c1499ac40e5", "978bbaabfc8695874c605c01c144b2977f611ceca73aeb72189988cdfbfb0a9c", 0, 34 * m, 91},
		{"pai_instance_table", "1bf1e423a7ce3f8d086699801c362fd56a7182abdb234139e5ebbed97995ca06", "51f2585178eaaf30ad8cc88c50ec9243b0f7d9603603ab7602efccb7aa34f6b0", 0, 663 * m, 84},
		{"pai_sensor_table", "9a0b82e8bdf3949281e4ba1423d9b4b34847e52799eecb138966de46da69c7a0", "d3e26eb31fb3b833821373b487266312151a3bfb2f18fc62017a438546cc1362", 0, 388 * m, 161},
		{"pai_group_tag_table", "722fef30b7fb7aa50dabd79155614b5423a9d65cf45a9b26c590d57725423a14", "320470fa8f77182bc6052c95ff359b75542c748e9516b3d8148a6e2bafc1798d", 0, 53 * m, 42},
		{"pai_machine_spec", "cc0d38a4045af1b1af8179de8b1b54b1ddd995e6160d6d061a6b1000f1276c2d", "4c9ea25914ff3f0b73be9ff223fb91002e787138165abd3f584ba37281448e1c", 30449, 32 * k, 41},
		{"pai_machine_metric", "53ad917193d3b1dd0f3055e723148b1f36c2f81789b014ea2930a7875892eef5", "300342613103c6192490f8990958903d837053c13adbc6c094d677074fbbb7ad", 0, 198 * m, 172},
	}
	var out []Table
	for _, t := range tables {
		out = append(out, Table{Name: t.name, Files: []File{
			{Name: t.name + ".tar.gz", URL: base + t.name + ".tar.gz", SHA256: t.sum, Size: t.size, About: t.about},
			{Name: t.name + ".header", URL: clusterdata + "cluster-trace-gpu-v2020/data/" + t.name + ".header", SHA256: t.headerSum, Size: t.header},
		}})
	}
	return Trace{
		Name:   "alibaba-pai-2020",
		Title:  "Alibaba cluster-trace-gpu-v2020 (PAI): over 6,500 GPUs on about 1,800 machines, July–August 2020",
		Home:   "https://github.com/alibaba/clusterdata/tree/master/cluster-trace-gpu-v2020",
		Checks: "sha256 of every tar.gz and header as published in cluster-trace-gpu-v2020/README.md (sizes there are approximate)",
		Cite:   "CC BY 4.0; Q. Weng et al., \"MLaaS in the Wild: Workload Analysis and Scheduling in Large-Scale Heterogeneous GPU Clusters\", NSDI '22",
		Tables: out,
	}
}

func openb2023() Trace {
	known := map[string]File{
		"openb_node_list_all_node": {Size: 52287, SHA256: "5a85c2af79c66a1efff8bbcbda430400aae56d8431370d738480967e1a9c6b15"},
		"openb_node_list_gpu_node": {Size: 42353, SHA256: "2beca64b4d3dfa342036a34b56a495c6cef9225db836c81f541282cb1df320b5"},
		"openb_pod_list_default":   {Size: 575468, SHA256: "1ee7ed79c27a3b0861cda8ddba86a004c6aba904caafa329a76ae93ca63834a8"},
	}
	names := []string{"openb_node_list_all_node", "openb_node_list_gpu_node", "openb_pod_list_default"}
	for _, v := range []string{"cpu0", "cpu037", "cpu050", "cpu072", "cpu100", "cpu200", "cpu235", "cpu250", "cpu300",
		"gpushare20", "gpushare40", "gpushare60", "gpushare80", "gpushare100",
		"gpuspec05", "gpuspec10", "gpuspec20", "gpuspec25", "gpuspec33",
		"multigpu20", "multigpu30", "multigpu40", "multigpu50"} {
		names = append(names, "openb_pod_list_"+v)
	}
	var tables []Table
	for _, n := range names {
		f := known[n]
		f.Name, f.URL = n+".csv", clusterdata+"cluster-trace-gpu-v2023/csv/"+n+".csv"
		tables = append(tables, Table{Name: n, Files: []File{f}})
	}
	return Trace{
		Name:   "alibaba-openb-2023",
		Title:  "Alibaba cluster-trace-gpu-v2023 (openb): 1,523 nodes, 8,152 pods, and the pod lists resampled from them",
		Home:   "https://github.com/alibaba/clusterdata/tree/master/cluster-trace-gpu-v2023",
		Checks: "sha256 and size of the node lists and the default pod list (as shipped in apron's samples, from alibaba/clusterdata at commit 7a6c496e); none for the resampled pod lists",
		Cite:   "Q. Weng et al., \"Beware of Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent\", USENIX ATC '23",
		Tables: tables,
	}
}

func philly() Trace {
	return Trace{
		Name:   "philly",
		Title:  "Microsoft Philly trace: 117,325 DNN training jobs on about 550 GPU machines, August–December 2017",
		Home:   "https://github.com/msr-fiddle/philly-traces",
		Checks: "sha256 and size from the Git LFS pointer in msr-fiddle/philly-traces",
		Cite:   "CC BY 4.0; M. Jeon et al., \"Analysis of Large-Scale Multi-Tenant GPU Clusters for DNN Training Workloads\", USENIX ATC '19",
		Tables: []Table{{Name: "trace-data", Files: []File{{Name: "trace-data.tar.gz",
			URL:  "https://media.githubusercontent.com/media/msr-fiddle/philly-traces/master/trace-data.tar.gz",
			Size: 1055988361, SHA256: "2037ccf63a725a02be718b0e1aeee6142c90b7f62d0d849295120e9f6ba13d2c"}}}},
	}
}
