//go:build !unix

package smt

import "time"

func processCPU() time.Duration { return 0 }
