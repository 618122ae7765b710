// clockprobe: the Go probe of the vDSO clock tests. Go's runtime reads the clock
// through the vDSO directly (no libc), which is what the vdso mechanism must reach.
//
//	clockprobe         every 10 ms: "wall=<unix ns> mono=<ns since start>"
//	clockprobe bench   every ~200 ms: "ns_per_call=<ns>" of time.Now()
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		for {
			const n = 200000
			start := time.Now()
			var sink int64
			for i := 0; i < n; i++ {
				sink += time.Now().UnixNano() & 1
			}
			el := time.Since(start)
			fmt.Printf("ns_per_call=%.1f sink=%d\n", float64(el.Nanoseconds())/n, sink)
		}
	}
	start := time.Now()
	for {
		now := time.Now()
		fmt.Printf("wall=%d mono=%d\n", now.UnixNano(), now.Sub(start).Nanoseconds())
		time.Sleep(10 * time.Millisecond)
	}
}
