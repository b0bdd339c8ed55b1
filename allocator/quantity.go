package allocator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Quantity is an amount of one scalar resource in fixed point: thousandths of
// a unit (milli-CPUs, milli-MiB). Integer arithmetic means that adding and
// subtracting the same amounts any number of times never drifts.
type Quantity int64

// Milli is the number of Quantity steps in one unit.
const Milli Quantity = 1000

// MaxUnits is the largest quantity, in whole units, that the text form
// accepts. It keeps sums over hundreds of thousands of agents far from
// overflowing int64.
const MaxUnits = 100_000_000_000

// Units returns n whole units as a Quantity.
func Units(n int64) Quantity { return Quantity(n) * Milli }

// QuantityOf converts a float amount of units to the nearest Quantity. It is
// for data that arrives as floats (trace files); text input should go through
// ParseQuantity, which never rounds.
func QuantityOf(units float64) (Quantity, error) {
	if math.IsNaN(units) || math.IsInf(units, 0) {
		return 0, fmt.Errorf("quantity %v is not a finite number", units)
	}
	if units < 0 {
		return 0, fmt.Errorf("quantity %v is negative; quantities are 0 or more", units)
	}
	if units > MaxUnits {
		return 0, fmt.Errorf("quantity %v is larger than the maximum %d", units, int64(MaxUnits))
	}
	return Quantity(math.Round(units * float64(Milli))), nil
}

// Float returns q in units.
func (q Quantity) Float() float64 { return float64(q) / float64(Milli) }

// String prints q in units with no trailing zeros: 2, 0.5, 0.001.
func (q Quantity) String() string {
	neg := q < 0
	if neg {
		q = -q
	}
	whole, frac := int64(q/Milli), int64(q%Milli)
	s := strconv.FormatInt(whole, 10)
	if frac != 0 {
		f := fmt.Sprintf("%03d", frac)
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseQuantity reads a decimal amount of units with at most three decimal
// places ("2", "0.5", "1024", "0.001"). It never rounds: more precision, a
// sign, an exponent, NaN or infinity are errors.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" {
		return 0, fmt.Errorf("empty quantity; want a decimal number such as 2 or 0.5")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" || whole == "" {
		return 0, fmt.Errorf("quantity %q is not a decimal number such as 2 or 0.5", s)
	}
	if !allDigits(whole) || !allDigits(frac) {
		if s[0] == '-' {
			return 0, fmt.Errorf("quantity %q is negative; quantities are 0 or more", s)
		}
		return 0, fmt.Errorf("quantity %q is not a decimal number such as 2 or 0.5", s)
	}
	if len(frac) > 3 {
		return 0, fmt.Errorf("quantity %q has more than 3 decimal places; the resolution is 0.001", s)
	}
	if len(whole) > 12 {
		return 0, fmt.Errorf("quantity %q is larger than the maximum %d", s, int64(MaxUnits))
	}
	w, _ := strconv.ParseInt(whole, 10, 64) // at most 12 digits: cannot fail
	if w > MaxUnits {
		return 0, fmt.Errorf("quantity %q is larger than the maximum %d", s, int64(MaxUnits))
	}
	q := Quantity(w) * Milli
	for i, scale := 0, Quantity(100); i < len(frac); i, scale = i+1, scale/10 {
		q += Quantity(frac[i]-'0') * scale
	}
	if q > Units(MaxUnits) {
		return 0, fmt.Errorf("quantity %q is larger than the maximum %d", s, int64(MaxUnits))
	}
	return q, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
