package main

import (
	"math"
	"strconv"
	"strings"

	bitfield "github.com/filecoin-project/go-bitfield"
	rle "github.com/filecoin-project/go-bitfield/rle"
)

// RunVector is one run of an RLE+ bitfield; lengths are decimal strings since they reach 2^64-1.
type RunVector struct {
	Set    bool   `json:"set"`
	Length string `json:"length"`
}

type BitfieldVector struct {
	Name  string      `json:"name"`
	Bytes string      `json:"bytes"`
	Runs  []RunVector `json:"runs"`
	Count string      `json:"count"`
	// Set lists the set bits when every one is below 2^53 (a JavaScript number); absent otherwise.
	Set []uint64 `json:"set,omitempty"`
}

type HostileBitfield struct {
	Name  string `json:"name"`
	Bytes string `json:"bytes"`
	// GoError is go-bitfield's refusal, or "" where go-bitfield accepts the bytes (the chain's Rust
	// decoder, fvm_ipld_bitfield, is stricter: see the TypeScript test for what each case must give).
	GoError string `json:"goError"`
}

type BitfieldVectors struct {
	Valid   []BitfieldVector  `json:"valid"`
	Hostile []HostileBitfield `json:"hostile"`
}

func runsOf(b []byte) []rle.Run {
	buf := must(rle.FromBuf(b))
	it := must(buf.RunIterator())
	var runs []rle.Run
	for it.HasNext() {
		runs = append(runs, must(it.NextRun()))
	}
	return runs
}

func vectorFromBytes(name string, b []byte) BitfieldVector {
	bf := must(bitfield.NewFromBytes(b))
	count := must(bf.Count())
	v := BitfieldVector{Name: name, Bytes: h(b), Count: strconv.FormatUint(count, 10), Runs: []RunVector{}}
	small := true
	for _, r := range runsOf(b) {
		v.Runs = append(v.Runs, RunVector{Set: r.Val, Length: strconv.FormatUint(r.Len, 10)})
	}
	if count > 0 {
		last := must(bf.Last())
		small = last < 1<<53
	}
	if small && count <= 3000 {
		v.Set = must(bf.All(count))
		if v.Set == nil {
			v.Set = []uint64{}
		}
	}
	// Re-encoding the decoded runs must give the same bytes (go-bitfield's own TestGoldenLoop).
	again := must(rle.EncodeRuns(&rle.RunSliceIterator{Runs: runsOf(b)}, nil))
	if h(again) != h(b) {
		panic("re-encoding changed " + name)
	}
	return v
}

func setVector(name string, set []uint64) BitfieldVector {
	bf := bitfield.NewFromSet(set)
	b := must(bf.RunIterator())
	enc := must(rle.EncodeRuns(b, nil))
	return vectorFromBytes(name, enc)
}

func runsVector(name string, runs []rle.Run) BitfieldVector {
	enc := must(rle.EncodeRuns(&rle.RunSliceIterator{Runs: runs}, nil))
	return vectorFromBytes(name, enc)
}

func span(from, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

func every(step, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i) * step
	}
	return out
}

// all8bitRuns are the runs of go-bitfield's TestAll8bit: every short-run pattern before runs of 1..63,
// then runs of 3..255.
func all8bitRuns() []rle.Run {
	runs := []rle.Run{}
	for k := uint64(1); k < 64; k++ {
		for i := 1; i < 7; i++ {
			for j := 0; j < i; j++ {
				runs = append(runs, rle.Run{Len: 1})
			}
			runs = append(runs, rle.Run{Len: k})
		}
	}
	for i := uint64(3); i < 256; i++ {
		runs = append(runs, rle.Run{Len: i})
	}
	for i := range runs {
		runs[i].Val = i%2 == 0
	}
	return runs
}

// bits turns "00 1 01 0001" (spaces ignored, first bit first) into bytes the way RLE+ writers pack
// them: least significant bit first, trailing zero bytes dropped.
func bits(s string) []byte {
	s = strings.ReplaceAll(s, " ", "")
	out := make([]byte, (len(s)+7)/8)
	for i, c := range s {
		if c == '1' {
			out[i/8] |= 1 << (i % 8)
		}
	}
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	return out
}

func goVerdict(b []byte) string {
	buf, err := rle.FromBuf(b)
	if err != nil {
		return err.Error()
	}
	it, err := buf.RunIterator()
	if err != nil {
		return err.Error()
	}
	for it.HasNext() {
		if _, err := it.NextRun(); err != nil {
			return err.Error()
		}
	}
	return ""
}

func bitfieldVectors() BitfieldVectors {
	var out BitfieldVectors
	out.Valid = []BitfieldVector{
		setVector("empty", nil),
		setVector("{0}", []uint64{0}),
		setVector("{1}", []uint64{1}),
		setVector("{0,1,2,3}", []uint64{0, 1, 2, 3}),
		setVector("rust reference {0,2,4,5,6,11..27}",
			append([]uint64{0, 2, 4, 5, 6}, span(11, 17)...)),
		setVector("TestBitfieldJson {1,5,6,7,10,11,12,15}", []uint64{1, 5, 6, 7, 10, 11, 12, 15}),
		setVector("{10,11,13,20}", []uint64{10, 11, 13, 20}),
		setVector("{0, 2^32-1, 2^32}", []uint64{0, 0xffffffff, 0xffffffff + 1}),
		setVector("{2^64-2}, the largest bit a bitfield can hold", []uint64{math.MaxUint64 - 1}),
		setVector("{2^63 .. 2^63+1023}", span(1<<63, 1024)),
		setVector("{2^53-1}", []uint64{1<<53 - 1}),
		setVector("{2^53}", []uint64{1 << 53}),
		setVector("full 32GiB partition {0..2348}", span(0, 2349)),
		setVector("every 7th of 500", every(7, 500)),
		setVector("run lengths 15,16", append(span(15, 16), span(47, 15)...)),
		setVector("run lengths 127,128", append(span(1, 127), span(1000, 128)...)),
		setVector("run lengths 16383,16384", append(span(3, 16383), span(40000, 16384)...)),
		runsVector("TestAll8bit runs", all8bitRuns()),
		vectorFromBytes("go-bitfield goldenRLE", goldenRLE),
	}

	hostile := []struct {
		name  string
		bytes []byte
	}{
		{"version 3 (0xff)", []byte{0xff}},
		{"version 1", bits("10 1 1")},
		{"trailing zero byte", append(bits("00 1 1"), 0)},
		{"only a zero byte", []byte{0}},
		{"varint of 11 bytes (run too long)", []byte{0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"varint above 2^64-1", bits("00 1 00 " + strings.Repeat("11111111 ", 9) + "01000000")},
		{"varint with a zero last byte", bits("00 1 00 11000001 00000000 111")},
		{"runs overflow 2^64", bits("00 1 00 " + strings.Repeat("11111111 ", 8) + "11111110" +
			" 00 " + strings.Repeat("11111111 ", 8) + "11111110" + " 01 0100")},
		{"short block of length 1", bits("00 1 01 1000 111")},
		{"long block of length 1", bits("00 1 00 10000000 111")},
		{"long block of length 3", bits("00 1 00 11000000 111")},
		{"trailing garbage after a zero short block", bits("00 1 1 01 0000 1")},
		{"trailing garbage after a zero long block", bits("00 1 1 00 00000000 1")},
		{"trailing run of zeros", bits("00 1 01 0100 1")},
		{"starts with zeros, only zeros", bits("00 0 1")},
		// go-bitfield's old encoder test writes {2^64-1}, but its decoder refuses it: 2^64 bits in all.
		{"{2^64-1}: 2^64 bits in all", must(rle.EncodeRuns(&rle.RunSliceIterator{Runs: []rle.Run{
			{Val: false, Len: math.MaxUint64}, {Val: true, Len: 1}}}, nil))},
	}
	for _, c := range hostile {
		out.Hostile = append(out.Hostile, HostileBitfield{Name: c.name, Bytes: h(c.bytes), GoError: goVerdict(c.bytes)})
	}
	return out
}
