package allocator

import (
	"math/big"
	"math/bits"
)

// u128 is an unsigned 128-bit integer, the numerators and denominators of
// Ratio's fast path. Operations report overflow instead of wrapping.
type u128 struct{ hi, lo uint64 }

func (x u128) isZero() bool { return x.hi == 0 && x.lo == 0 }

func pow2(e int) u128 {
	if e >= 64 {
		return u128{hi: 1 << (e - 64)}
	}
	return u128{lo: 1 << e}
}

// mul returns x*y and whether it fits in 128 bits.
func (x u128) mul(y u128) (u128, bool) {
	if x.hi != 0 && y.hi != 0 {
		return u128{}, false
	}
	hi, lo := bits.Mul64(x.lo, y.lo)
	h1, l1 := bits.Mul64(x.hi, y.lo)
	h2, l2 := bits.Mul64(x.lo, y.hi)
	hi, c1 := bits.Add64(hi, l1, 0)
	hi, c2 := bits.Add64(hi, l2, 0)
	return u128{hi, lo}, h1 == 0 && h2 == 0 && c1 == 0 && c2 == 0
}

// add returns x+y and whether it fits in 128 bits.
func (x u128) add(y u128) (u128, bool) {
	lo, c := bits.Add64(x.lo, y.lo, 0)
	hi, c := bits.Add64(x.hi, y.hi, c)
	return u128{hi, lo}, c == 0
}

func (x u128) cmp(y u128) int {
	switch {
	case x.hi != y.hi:
		return cmpWord(x.hi, y.hi)
	case x.lo != y.lo:
		return cmpWord(x.lo, y.lo)
	}
	return 0
}

func cmpWord(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// mul256 returns the full product x*y, least significant word first.
func mul256(x, y u128) [4]uint64 {
	h00, l00 := bits.Mul64(x.lo, y.lo)
	h01, l01 := bits.Mul64(x.lo, y.hi)
	h10, l10 := bits.Mul64(x.hi, y.lo)
	h11, l11 := bits.Mul64(x.hi, y.hi)
	w1, c1 := bits.Add64(h00, l01, 0)
	w1, c2 := bits.Add64(w1, l10, 0)
	w2, c3 := bits.Add64(h01, h10, 0)
	w2, c4 := bits.Add64(w2, l11, 0)
	w2, c5 := bits.Add64(w2, c1+c2, 0)
	return [4]uint64{l00, w1, w2, h11 + c3 + c4 + c5} // the product is below 2^256
}

func cmp256(a, b [4]uint64) int {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			return cmpWord(a[i], b[i])
		}
	}
	return 0
}

func (x u128) float() float64 { return float64(x.hi)*0x1p64 + float64(x.lo) }

func (x u128) big() *big.Int {
	b := new(big.Int).SetUint64(x.hi)
	return b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(x.lo))
}

// u128Of returns b in 128 bits, if it is non-negative and fits.
func u128Of(b *big.Int) (u128, bool) {
	if b.Sign() < 0 || b.BitLen() > 128 {
		return u128{}, false
	}
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0)))
	return u128{hi: new(big.Int).Rsh(b, 64).Uint64(), lo: lo.Uint64()}, true
}
