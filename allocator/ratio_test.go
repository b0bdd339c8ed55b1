package allocator

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// exact returns x's value as a big.Rat, read back from its printed form.
func exact(t *rapid.T, x Ratio) *big.Rat {
	r, ok := new(big.Rat).SetString(x.String())
	if !ok {
		t.Fatalf("%q does not read back as a fraction", x.String())
	}
	return r
}

// quantity draws small, large and extreme quantities, so that products
// overflow 128 bits and take the big.Rat path.
func quantity(t *rapid.T, label string) Quantity {
	return Quantity(rapid.OneOf(
		rapid.Int64Range(0, 20),
		rapid.Int64Range(1, 1<<40),
		rapid.Int64Range(math.MaxInt64-1000, math.MaxInt64),
	).Draw(t, label))
}

// drawRatio builds a ratio from fractions by the operations policies use.
func drawRatio(t *rapid.T, label string) Ratio {
	x := Frac(quantity(t, label+".n"), quantity(t, label+".d"))
	for range rapid.IntRange(0, 3).Draw(t, label+".ops") {
		y := Frac(quantity(t, label+".yn"), quantity(t, label+".yd"))
		switch rapid.IntRange(0, 4).Draw(t, label+".op") {
		case 0:
			x = x.Add(y)
		case 1:
			x = x.Mul(y)
		case 2:
			x = x.Quo(y)
		case 3:
			x = x.Max(y)
		default:
			x = x.Quo(WeightRatio(rapid.Float64Range(0.001, 1000).Draw(t, label+".w")))
		}
	}
	return x
}

// Every operation and comparison agrees with math/big's exact arithmetic,
// including between a ratio and itself computed another way.
func TestRatioAgreesWithBigRat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x, y := drawRatio(t, "x"), drawRatio(t, "y")
		if rapid.Bool().Draw(t, "near") { // y within a relative 1/k of x
			k := Quantity(1) << rapid.IntRange(1, 62).Draw(t, "log2 k")
			k += Quantity(rapid.Int64Range(0, 1000).Draw(t, "k"))
			y = x.Mul(Frac(k+Quantity(rapid.IntRange(-1, 1).Draw(t, "sign")), k))
		}
		bx, by := exact(t, x), exact(t, y)
		if got, want := x.Cmp(y), bx.Cmp(by); got != want {
			t.Fatalf("%s cmp %s = %d; want %d", x, y, got, want)
		}
		for _, c := range []struct {
			op        string
			got, want *big.Rat
		}{
			{"+", exact(t, x.Add(y)), new(big.Rat).Add(bx, by)},
			{"*", exact(t, x.Mul(y)), new(big.Rat).Mul(bx, by)},
		} {
			if c.got.Cmp(c.want) != 0 {
				t.Fatalf("%s %s %s = %s; want %s", x, c.op, y, c.got.RatString(), c.want.RatString())
			}
		}
		if by.Sign() != 0 {
			if got, want := exact(t, x.Quo(y)), new(big.Rat).Quo(bx, by); got.Cmp(want) != 0 {
				t.Fatalf("%s / %s = %s; want %s", x, y, got.RatString(), want.RatString())
			}
		}
		// The same value reached by another path compares equal.
		if x.Mul(y).Quo(y).Cmp(x) != 0 && by.Sign() != 0 {
			t.Fatalf("(%s * %s) / %s != %s", x, y, y, x)
		}
		if f, _ := bx.Float64(); math.Abs(x.Float64()-f) > 1e-15*f {
			t.Fatalf("%s approximated as %v; want %v", x, x.Float64(), f)
		}
	})
}

// Ties the float64 path gets wrong: (3/11)/3 is 1/11, and 0.3 is three
// times 0.1 as a weight.
func TestRatioExactTies(t *testing.T) {
	for _, c := range []struct {
		name string
		x, y Ratio
	}{
		{"(3/11)/3 = 1/11", Frac(3000, 11000).Quo(WeightRatio(3)), Frac(1000, 11000)},
		{"(3/10)/0.3 = (1/10)/0.1", Frac(3, 10).Quo(WeightRatio(0.3)), Frac(1, 10).Quo(WeightRatio(0.1))},
		{"1/9 + 4/18 = 1/3", Frac(1000, 9000).Add(Frac(4096, 18432)), Frac(1, 3)},
		{"2 * (1/30 + 3/30) = 1/30 + 1/30 + 6/30", Frac(2, 1).Mul(Frac(1, 30).Add(Frac(3, 30))), Frac(1, 30).Add(Frac(1, 30)).Add(Frac(6, 30))},
	} {
		if c.x.Cmp(c.y) != 0 || c.y.Cmp(c.x) != 0 {
			t.Errorf("%s: %s and %s compare unequal", c.name, c.x, c.y)
		}
	}
	three, eleven := 3.0, 11.0 // variables: constant arithmetic is exact
	if three/eleven/three >= 1/eleven {
		t.Fatal("the float64 counterexample no longer holds; the test needs another")
	}
}

func TestFloatAndWeightRatios(t *testing.T) {
	for _, c := range []struct {
		x    Ratio
		want string
	}{
		{FloatRatio(0.5), "1/2"},
		{FloatRatio(3), "3"},
		{FloatRatio(-1), "0"},
		{FloatRatio(math.NaN()), "0"},
		{FloatRatio(0x1p-200), "1/" + new(big.Int).Lsh(big.NewInt(1), 200).String()},
		{WeightRatio(0.3), "3/10"},
		{WeightRatio(2.5), "5/2"},
		{WeightRatio(1e30), "1" + strings.Repeat("0", 30)},
		{WeightRatio(0), "1"},
		{Ratio{}, "0"},
	} {
		if got := c.x.String(); got != c.want {
			t.Errorf("got %s; want %s", got, c.want)
		}
	}
}

func TestMul256(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := u128{rapid.Uint64().Draw(t, "xh"), rapid.Uint64().Draw(t, "xl")}
		y := u128{rapid.Uint64().Draw(t, "yh"), rapid.Uint64().Draw(t, "yl")}
		w := mul256(x, y)
		got := new(big.Int)
		for i := 3; i >= 0; i-- {
			got.Lsh(got, 64).Or(got, new(big.Int).SetUint64(w[i]))
		}
		if want := new(big.Int).Mul(x.big(), y.big()); got.Cmp(want) != 0 {
			t.Fatalf("%v * %v = %v; want %v", x, y, got, want)
		}
		p, ok := x.mul(y)
		want := new(big.Int).Mul(x.big(), y.big())
		if ok != (want.BitLen() <= 128) || ok && p.big().Cmp(want) != 0 {
			t.Fatalf("mul(%v, %v) = %v, %v; want %v", x, y, p, ok, want)
		}
	})
}

// What comparing two shares costs: apart (the float64 filter decides),
// equal over the same total (a tie between identical allocations), and
// equal over different totals (cross-multiplication).
func BenchmarkRatioCmp(b *testing.B) {
	for _, c := range []struct {
		name string
		x, y Ratio
	}{
		{"apart", Frac(16000, 240000), Frac(17000, 240000)},
		{"tie same total", Frac(16000, 240000), Frac(16000, 240000)},
		{"tie across totals", Frac(16000, 240000), Frac(2014, 30210)},
		{"tie weighted", Frac(3000, 11000).Quo(WeightRatio(3)), Frac(1000, 11000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if c.x.cmp(&c.y) > 0 {
					b.Fatal("wrong order")
				}
			}
		})
	}
}

// What a drf share costs to compute, for three resources.
func BenchmarkDRFShare(b *testing.B) {
	u := &Usage{Weight: oneRatio, Resources: []string{"cpus", "mem", "disk"},
		Allocated: []Quantity{160000, 20140000, 10240000}, Total: []Quantity{240000000, 40960000000, 40960000000}}
	p := drf{}
	for range b.N {
		p.Share(u)
	}
}
