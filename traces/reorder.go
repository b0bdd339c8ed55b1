package traces

import (
	"container/heap"
	"fmt"
	"io"
)

// Reorder mends a job stream that is only nearly in submit order: it holds
// up to window jobs and hands out the earliest. A job earlier than one
// already handed out is an error naming both.
func Reorder(src Source, window int) Source {
	return &reorder{src: src, window: max(window, 1)}
}

type reorder struct {
	src    Source
	window int
	buf    jobHeap
	seq    int
	last   *Job
	eof    bool
}

func (r *reorder) Next() (*Job, error) {
	for !r.eof && len(r.buf) < r.window {
		j, err := r.src.Next()
		if err == io.EOF {
			r.eof = true
			break
		}
		if err != nil {
			return nil, err
		}
		r.seq++
		heap.Push(&r.buf, seqJob{j, r.seq})
	}
	if len(r.buf) == 0 {
		return nil, io.EOF
	}
	j := heap.Pop(&r.buf).(seqJob).j
	if r.last != nil && j.Submit < r.last.Submit {
		return nil, fmt.Errorf("job %s submitted at %v, before job %s at %v: out of order by more than the reorder window of %d jobs",
			j.ID, j.Submit, r.last.ID, r.last.Submit, r.window)
	}
	r.last = j
	return j, nil
}

type seqJob struct {
	j   *Job
	seq int
}

type jobHeap []seqJob

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(a, b int) bool {
	if h[a].j.Submit != h[b].j.Submit {
		return h[a].j.Submit < h[b].j.Submit
	}
	return h[a].seq < h[b].seq
}
func (h jobHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *jobHeap) Push(x any)   { *h = append(*h, x.(seqJob)) }
func (h *jobHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = seqJob{} // let the job go once handed out
	*h = old[:len(old)-1]
	return x
}
