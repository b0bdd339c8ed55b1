package allocator

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Ratio is an exact non-negative rational number: a client's share, as a
// policy computes it, and a role's weight. Shares are ratios of the
// fixed-point quantities (what a client holds over the cluster's total), so
// two shares that are equal in exact arithmetic compare equal, and the tie
// falls through to allocation counts and names as the order promises;
// float64 would break it by rounding ((3/11)/3 < 1/11 in floating point).
//
// A Ratio keeps its numerator and denominator in 128 bits while they fit,
// so that the common case costs a few multiplications and no allocation,
// and in a big.Rat when they do not. Comparisons look first at a float64
// approximation and fall back to exact cross-multiplication only when the
// two approximations are too close to decide. The zero value is 0.
type Ratio struct {
	f    float64  // the value, to within a relative error of 1e-15
	n, d u128     // the value is n/d when r is nil (d == 0 means 0)
	r    *big.Rat // the value, when n or d does not fit in 128 bits
}

// approxTol is how far apart, relative to the larger, two approximations
// must be for their order to be the exact order. An approximation is
// within 7 roundings (about 8e-16) of its value; 1e-12 leaves a wide margin.
const approxTol = 1e-12

var oneRatio = Frac(1, 1)

// Frac returns num/den, the share num of a total den. A zero or negative
// den, or a negative num, gives 0.
func Frac(num, den Quantity) Ratio {
	if num <= 0 || den <= 0 {
		return Ratio{}
	}
	return fast(u128{lo: uint64(num)}, u128{lo: uint64(den)})
}

// fracLess reports whether a/t < b/s, for positive quantities.
func fracLess(a, t, b, s Quantity) bool {
	h1, l1 := bits.Mul64(uint64(a), uint64(s))
	h2, l2 := bits.Mul64(uint64(b), uint64(t))
	return h1 < h2 || h1 == h2 && l1 < l2
}

// FloatRatio returns x exactly (every float64 is a ratio of integers), for
// policies whose shares are drawn rather than computed (random). NaN and
// negative numbers give 0, +Inf the largest float64.
func FloatRatio(x float64) Ratio {
	switch {
	case math.IsNaN(x) || x <= 0:
		return Ratio{}
	case math.IsInf(x, 1):
		x = math.MaxFloat64
	}
	frac, exp := math.Frexp(x)
	mant, e := uint64(frac*(1<<53)), exp-53 // x = mant * 2^e exactly
	switch {
	case e >= 0 && e <= 64:
		if n, ok := (u128{lo: mant}).mul(pow2(e)); ok {
			return fast(n, u128{lo: 1})
		}
	case e < 0 && e > -128:
		return fast(u128{lo: mant}, pow2(-e))
	}
	return fromBig(new(big.Rat).SetFloat64(x))
}

// WeightRatio returns a weight as the decimal number it prints as (the
// shortest that reads back as w), so that weights written 0.1 and 0.3 are
// exactly 1:3, as 1 and 3 are. A weight that is not positive gives 1.
func WeightRatio(w float64) Ratio {
	if !(w > 0) || math.IsInf(w, 1) {
		return oneRatio
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(w, 'e', -1, 64)) // a finite decimal: cannot fail
	return fromBig(r)
}

func fast(n, d u128) Ratio { return Ratio{f: n.float() / d.float(), n: n, d: d} }

// fromBig returns r, in 128 bits when it fits.
func fromBig(r *big.Rat) Ratio {
	if r.Sign() <= 0 {
		return Ratio{}
	}
	if n, ok := u128Of(r.Num()); ok {
		if d, ok := u128Of(r.Denom()); ok {
			return fast(n, d)
		}
	}
	f, _ := r.Float64()
	return Ratio{f: f, r: r}
}

func (x Ratio) big() *big.Rat {
	if x.r != nil {
		return x.r
	}
	if x.n.isZero() || x.d.isZero() {
		return new(big.Rat)
	}
	return new(big.Rat).SetFrac(x.n.big(), x.d.big())
}

// parts returns n/d with d > 0 for a Ratio held in 128 bits.
func (x Ratio) parts() (n, d u128) {
	if x.d.isZero() {
		return u128{}, u128{lo: 1}
	}
	return x.n, x.d
}

// Float64 returns x approximately (within a relative 1e-15).
func (x Ratio) Float64() float64 { return x.f }

// String prints x as a fraction, 3/11.
func (x Ratio) String() string { return x.big().RatString() }

// IsZero reports whether x is 0.
func (x Ratio) IsZero() bool { return x.f == 0 && x.Cmp(Ratio{}) == 0 }

// Cmp compares x and y exactly: -1 if x < y, 0 if equal, +1 if x > y.
func (x Ratio) Cmp(y Ratio) int { return x.cmp(&y) }

func (x *Ratio) cmp(y *Ratio) int {
	// The approximations decide when they are far enough apart (both are
	// non-negative; infinities and NaN fall through to the exact test).
	if x.f < y.f {
		if y.f-x.f > approxTol*y.f {
			return -1
		}
	} else if x.f > y.f && x.f-y.f > approxTol*x.f {
		return 1
	}
	if x.r != nil || y.r != nil {
		return x.big().Cmp(y.big())
	}
	if x.d == y.d && !x.d.isZero() { // shares of the same total, say
		return x.n.cmp(y.n)
	}
	xn, xd := x.parts()
	yn, yd := y.parts()
	switch {
	case xd == yd: // shares of the same total, say
		return xn.cmp(yn)
	case xn.hi|xd.hi|yn.hi|yd.hi == 0:
		h1, l1 := bits.Mul64(xn.lo, yd.lo)
		h2, l2 := bits.Mul64(yn.lo, xd.lo)
		return u128{h1, l1}.cmp(u128{h2, l2})
	}
	return cmp256(mul256(xn, yd), mul256(yn, xd))
}

// Max returns the larger of x and y.
func (x Ratio) Max(y Ratio) Ratio {
	if x.cmp(&y) >= 0 {
		return x
	}
	return y
}

// Add returns x + y.
func (x Ratio) Add(y Ratio) Ratio {
	if x.r == nil && y.r == nil {
		xn, xd := x.parts()
		yn, yd := y.parts()
		if xd == yd {
			if n, ok := xn.add(yn); ok {
				return fast(n, xd)
			}
		} else if n, d, ok := crossAdd(xn, xd, yn, yd); ok {
			return fast(n, d)
		}
	}
	return fromBig(new(big.Rat).Add(x.big(), y.big()))
}

func crossAdd(xn, xd, yn, yd u128) (n, d u128, ok bool) {
	a, ok1 := xn.mul(yd)
	b, ok2 := yn.mul(xd)
	d, ok3 := xd.mul(yd)
	n, ok4 := a.add(b)
	return n, d, ok1 && ok2 && ok3 && ok4
}

// Mul returns x * y.
func (x Ratio) Mul(y Ratio) Ratio {
	if x.r == nil && y.r == nil {
		xn, xd := x.parts()
		yn, yd := y.parts()
		n, ok1 := xn.mul(yn)
		d, ok2 := xd.mul(yd)
		if ok1 && ok2 {
			return fast(n, d)
		}
	}
	return fromBig(new(big.Rat).Mul(x.big(), y.big()))
}

// Quo returns x / y; dividing by 0 gives 0.
func (x Ratio) Quo(y Ratio) Ratio {
	if y.f == 1 && y.r == nil && y.n == y.d { // by 1, a weight of 1: inlined
		return x
	}
	return x.quo(y)
}

func (x Ratio) quo(y Ratio) Ratio {
	if y.f == 0 && y.IsZero() {
		return Ratio{}
	}
	if x.r == nil && y.r == nil {
		xn, xd := x.parts()
		yn, yd := y.parts()
		n, ok1 := xn.mul(yd)
		d, ok2 := xd.mul(yn)
		if ok1 && ok2 {
			return fast(n, d)
		}
	}
	return fromBig(new(big.Rat).Quo(x.big(), y.big()))
}
