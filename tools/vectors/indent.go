package main

import (
	"bytes"
	"encoding/json"
	"strings"
)

// indentShallow re-indents compact JSON so that objects and arrays nested up to depth open one entry
// per line and anything deeper stays on one line: a readable diff without a line per bit number.
func indentShallow(compact []byte, depth int) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(compact))
	dec.UseNumber()
	var out bytes.Buffer
	var write func(level int) error
	write = func(level int) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		delim, isDelim := tok.(json.Delim)
		if !isDelim {
			b, err := json.Marshal(tok)
			if err != nil {
				return err
			}
			out.Write(bytes.ReplaceAll(b, []byte(`\u0026`), []byte("&")))
			return nil
		}
		closing := map[json.Delim]string{'{': "}", '[': "]"}[delim]
		out.WriteString(delim.String())
		expand := level < depth
		first := true
		for dec.More() {
			if !first {
				out.WriteString(",")
			}
			first = false
			if expand {
				out.WriteString("\n" + strings.Repeat("  ", level+1))
			}
			if delim == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				b, _ := json.Marshal(key)
				out.Write(b)
				out.WriteString(":")
				if expand {
					out.WriteString(" ")
				}
			}
			if err := write(level + 1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		if expand && !first {
			out.WriteString("\n" + strings.Repeat("  ", level))
		}
		out.WriteString(closing)
		return nil
	}
	if err := write(0); err != nil {
		return nil, err
	}
	out.WriteString("\n")
	return out.Bytes(), nil
}
