// The CPU part of a NodeFeature object as Node Feature Discovery's worker makes it
// (source/cpu/cpu.go and cpuid_amd64.go, v0.19.0): every flag klauspost/cpuid reports, unfiltered,
// and the x86-64 level flags X86_64_V1..V<level>, under the feature cpu.cpuid. NFD v0.19.0 also
// reports AVX10_VERSION from cpuid v2.2.7 and later; Debian's cpuid (2.2.3) has no AVX10 API, so
// the attribute is left out. Usage: detect NODE-NAME, prints one NodeFeature as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/klauspost/cpuid/v2"
)

func main() {
	elements := map[string]struct{}{}
	for _, flag := range cpuid.CPU.FeatureSet() {
		elements[flag] = struct{}{}
	}
	for level := 1; level <= cpuid.CPU.X64Level(); level++ {
		elements[fmt.Sprintf("X86_64_V%d", level)] = struct{}{}
	}
	object := map[string]interface{}{
		"apiVersion": "nfd.k8s-sigs.io/v1alpha1",
		"kind":       "NodeFeature",
		"metadata": map[string]interface{}{
			"name":   os.Args[1] + "-nfd",
			"labels": map[string]string{"nfd.node.kubernetes.io/node-name": os.Args[1]},
		},
		"spec": map[string]interface{}{
			"features": map[string]interface{}{
				"flags": map[string]interface{}{"cpu.cpuid": map[string]interface{}{"elements": elements}},
			},
		},
	}
	out, err := json.Marshal(object)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
}
