package main

import (
	"fmt"
	"io"
	"strings"
)

// report writes the results as markdown tables. The first runtime is the one compared: its
// ratios to each other runtime are medians of per-round ratios.
func report(w io.Writer, names []string, results []result, rss *rssResult, mem map[string]map[string]memResult) error {
	fmt.Fprintln(w, "### Wall time (ms) and paired ratios")
	fmt.Fprintln(w)
	if err := ratioTable(w, names, results, func(s sample) float64 { return ms(s.wall) }, "wall"); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### CPU time (user+sys, ms) and paired ratios")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "CPU is user+sys of the runtime processes and the children they waited for (wait4 rusage),")
	fmt.Fprintln(w, "summed over the calls of one round; it suffers less than wall time from other load on the")
	fmt.Fprintln(w, "machine. A container init reparented to the driver (create) is not counted.")
	fmt.Fprintln(w)
	if err := ratioTable(w, names, results, func(s sample) float64 { return ms(s.cpu) }, "cpu"); err != nil {
		return err
	}

	var rows [][]string
	for _, r := range results {
		for _, n := range names {
			var walls []float64
			for _, s := range r.samples[n] {
				walls = append(walls, ms(s.wall))
			}
			w := summarize(walls)
			rows = append(rows, []string{r.name, n, fmt.Sprint(w.n), fmtMS(w.median), fmtMS(w.p25) + "–" + fmtMS(w.p75),
				fmtMS(w.min) + "–" + fmtMS(w.max)})
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Spread of wall time per runtime (ms)")
	fmt.Fprintln(w)
	table(w, []string{"scenario", "runtime", "n", "wall median", "p25–p75", "min–max"}, rows)

	if rss != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "### Peak RSS of `run` of /bin/true, netns (ru_maxrss through /usr/bin/time, KiB)")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Floor: /bin/true alone under /usr/bin/time peaks at %d KiB.\n\n", rss.floor)
		rows = nil
		for _, n := range names {
			var xs []float64
			for _, k := range rss.samples[n] {
				xs = append(xs, float64(k))
			}
			sm := summarize(xs)
			rows = append(rows, []string{n, fmt.Sprint(sm.n), fmt.Sprintf("%.0f", sm.median), fmt.Sprintf("%.0f–%.0f", sm.min, sm.max)})
		}
		table(w, []string{"runtime", "n", "median", "min–max"}, rows)
	}

	if len(mem) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "### Smallest linux.resources.memory.limit at which `run` of /bin/true exits 0")
		fmt.Fprintln(w)
		rows = nil
		for _, variant := range []string{"netns", "hostnet"} {
			res, ok := mem[variant]
			if !ok {
				continue
			}
			for _, n := range names {
				m := res[n]
				left := m.left
				if left == "" {
					left = "nothing"
				}
				rows = append(rows, []string{variant, n, fmtKiB(m.smallest), m.failure, left})
			}
		}
		table(w, []string{"variant", "runtime", "smallest limit", "failure one page below", "failed runs left behind"}, rows)
	}
	return nil
}

// ratioTable prints, per scenario, each runtime's median [p25–p75] of the metric and the
// first runtime's paired ratios to the others.
func ratioTable(w io.Writer, names []string, results []result, metric func(sample) float64, label string) error {
	head := []string{"scenario"}
	for _, n := range names {
		head = append(head, n+" "+label+", median [p25–p75]")
	}
	for _, n := range names[1:] {
		head = append(head, names[0]+"/"+n+" [p25–p75]")
	}
	var rows [][]string
	for _, r := range results {
		row := []string{r.name}
		vals := map[string][]float64{}
		for _, n := range names {
			for _, s := range r.samples[n] {
				vals[n] = append(vals[n], metric(s))
			}
			sm := summarize(vals[n])
			row = append(row, fmt.Sprintf("%s [%s–%s]", fmtMS(sm.median), fmtMS(sm.p25), fmtMS(sm.p75)))
		}
		for _, n := range names[1:] {
			ratios, err := pairedRatios(vals[names[0]], vals[n])
			if err != nil {
				return fmt.Errorf("%s: %s/%s %s: %w", r.name, names[0], n, label, err)
			}
			sm := summarize(ratios)
			row = append(row, fmt.Sprintf("%.2f [%.2f–%.2f]", sm.median, sm.p25, sm.p75))
		}
		rows = append(rows, row)
	}
	table(w, head, rows)
	return nil
}

func fmtMS(v float64) string { return fmt.Sprintf("%.1f", v) }

func fmtKiB(b int64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%d KiB (%.2f MiB)", b>>10, float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}

func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintln(w, "| "+strings.Join(sep, " | ")+" |")
	for _, r := range rows {
		fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
	}
}
