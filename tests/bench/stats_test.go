package main

import (
	"math"
	"testing"
)

func TestSummarizeOddAndEven(t *testing.T) {
	s := summarize([]float64{5, 1, 3})
	if s.median != 3 || s.min != 1 || s.max != 5 || s.n != 3 {
		t.Fatalf("odd: got %+v", s)
	}
	s = summarize([]float64{4, 1, 3, 2})
	if s.median != 2.5 {
		t.Fatalf("even median: got %v, want 2.5", s.median)
	}
	if math.Abs(s.p25-1.75) > 1e-9 || math.Abs(s.p75-3.25) > 1e-9 {
		t.Fatalf("quartiles: got %v %v, want 1.75 3.25", s.p25, s.p75)
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	xs := []float64{3, 1, 2}
	summarize(xs)
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Fatalf("input reordered: %v", xs)
	}
}

// The median of per-round ratios differs from the ratio of medians when the load drifts; this
// is the reason the report pairs rounds.
func TestPairedRatiosMedian(t *testing.T) {
	a := []float64{10, 20, 30}
	b := []float64{20, 10, 60}
	r, err := pairedRatios(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := summarize(r).median; got != 0.5 {
		t.Fatalf("median of paired ratios: got %v, want 0.5", got)
	}
	if got := summarize(a).median / summarize(b).median; got != 1 {
		t.Fatalf("ratio of medians: got %v, want 1", got)
	}
}

func TestPairedRatiosErrors(t *testing.T) {
	if _, err := pairedRatios([]float64{1}, []float64{1, 2}); err == nil {
		t.Fatal("length mismatch accepted")
	}
	if _, err := pairedRatios([]float64{1}, []float64{0}); err == nil {
		t.Fatal("zero divisor accepted")
	}
}
