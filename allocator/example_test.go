package allocator_test

import (
	"fmt"
	"time"

	"github.com/apronlab/apron/allocator"
)

// Two-level scheduling: the allocator offers, the framework accepts part
// and the rest is offered to the next framework in the next cycle.
func ExampleAllocator_Allocate() {
	a, _ := allocator.New(allocator.Config{Policy: "drf"})
	_ = a.AddAgent(allocator.AgentInfo{ID: "s1"}, allocator.MustParseResources("cpus:4;mem:4096"))
	_ = a.AddFramework("fw1", "analytics")
	_ = a.AddFramework("fw2", "web")
	now := time.Unix(0, 0)

	offer := a.Allocate(now).Offers[0]
	fmt.Println(offer.Framework, offer.Resources)
	_ = a.Accept(offer.ID, allocator.MustParseResources("cpus:3;mem:3072"), 0, now)

	offer = a.Allocate(now.Add(time.Second)).Offers[0]
	fmt.Println(offer.Framework, offer.Resources)
	// Output:
	// fw1 cpus:4;mem:4096
	// fw2 cpus:1;mem:1024
}

// Progressive filling on the DRF paper's example.
func ExampleAllocator_Fill() {
	a, _ := allocator.New(allocator.Config{Policy: "drf"})
	_ = a.AddAgent(allocator.AgentInfo{ID: "node"}, allocator.MustParseResources("cpus:9;mem:18432"))
	_ = a.AddFramework("A", "a")
	_ = a.AddFramework("B", "b")
	picks, _ := a.Fill([]allocator.Demand{
		{Framework: "A", Role: "a", Task: allocator.MustParseResources("cpus:1;mem:4096"), Tasks: allocator.Unlimited},
		{Framework: "B", Role: "b", Task: allocator.MustParseResources("cpus:3;mem:1024"), Tasks: allocator.Unlimited},
	})
	var order []allocator.FrameworkID
	for _, p := range picks {
		order = append(order, p.Framework)
	}
	fmt.Println(order)
	for _, f := range a.Frameworks() {
		fmt.Printf("%s %s %.3f\n", f.ID, f.Allocated, f.DominantShare)
	}
	// Output:
	// [A B A B A]
	// A cpus:3;mem:12288 0.667
	// B cpus:6;mem:2048 0.667
}
