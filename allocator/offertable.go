package allocator

import "slices"

// offerTable holds the outstanding offers by id. Ids count up and most
// offers end within a cycle or two of being made, so offers sit in a window
// of slots indexed by id from base, the oldest one outstanding: finding,
// adding and removing one is an index, not a map. An offer left outstanding
// while many newer ones come and go moves to a map, so that the window
// stays within a few times the offers it holds.
type offerTable struct {
	base   OfferID  // the id of window[0]
	window []*offer // window[i] is offer base+i, or nil once it ended
	live   int      // offers in the window
	old    map[OfferID]*offer
}

// add adds an offer whose id follows every id added before.
func (t *offerTable) add(o *offer) {
	if len(t.window) == 0 {
		t.base = o.id
	}
	t.window = append(t.window, o)
	t.live++
	for len(t.window) > 4*t.live+64 { // the oldest ones are stragglers
		if t.old == nil {
			t.old = map[OfferID]*offer{}
		}
		t.old[t.base] = t.window[0]
		t.live--
		t.window[0] = nil
		t.trim()
	}
}

func (t *offerTable) get(id OfferID) *offer {
	if id >= t.base && id-t.base < OfferID(len(t.window)) {
		return t.window[id-t.base]
	}
	return t.old[id]
}

func (t *offerTable) remove(id OfferID) {
	if id >= t.base && id-t.base < OfferID(len(t.window)) {
		if t.window[id-t.base] != nil {
			t.window[id-t.base] = nil
			t.live--
			t.trim()
		}
		return
	}
	delete(t.old, id)
}

// trim drops the ended offers at the start of the window.
func (t *offerTable) trim() {
	for len(t.window) > 0 && t.window[0] == nil {
		t.window = t.window[1:]
		t.base++
	}
}

// sorted returns the outstanding offers in id order.
func (t *offerTable) sorted() []*offer {
	out := make([]*offer, 0, len(t.old)+t.live)
	for _, id := range sortedKeys(t.old) {
		out = append(out, t.old[id])
	}
	for _, o := range t.window {
		if o != nil {
			out = append(out, o)
		}
	}
	return slices.Clip(out)
}
