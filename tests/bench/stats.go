package main

import (
	"fmt"
	"sort"
	"time"
)

// summary is the spread of one runtime's samples in one scenario.
type summary struct {
	n                int
	median, p25, p75 float64
	min, max         float64
}

// summarize sorts a copy of xs and reads its quantiles (linear interpolation between ranks).
func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return summary{
		n:      len(s),
		median: quantile(s, 0.5),
		p25:    quantile(s, 0.25),
		p75:    quantile(s, 0.75),
		min:    s[0],
		max:    s[len(s)-1],
	}
}

// quantile of sorted xs, q in [0,1].
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// pairedRatios divides a[i] by b[i] round by round: both were measured in the same round, so
// load that drifts between rounds cancels out of each ratio.
func pairedRatios(a, b []float64) ([]float64, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("paired ratios: %d samples against %d", len(a), len(b))
	}
	r := make([]float64, len(a))
	for i := range a {
		if b[i] <= 0 {
			return nil, fmt.Errorf("paired ratios: round %d: divisor %v is not positive", i, b[i])
		}
		r[i] = a[i] / b[i]
	}
	return r, nil
}

// ms converts a duration to float milliseconds, the unit of every time in the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
