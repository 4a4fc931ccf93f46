package scripting

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// jsonRows is a 100-row query result as a page holds it: an array of
// tables {id, name, price, created}.
func jsonRows(L *lua.LState) *lua.LTable {
	rows := L.CreateTable(100, 0)
	for i := 1; i <= 100; i++ {
		row := L.CreateTable(0, 4)
		row.RawSetString("id", lua.LNumber(i))
		row.RawSetString("name", lua.LString(fmt.Sprintf("Product %d \"special\"", i)))
		row.RawSetString("price", lua.LNumber(float64(i)*1.25+0.01))
		row.RawSetString("created", lua.LString("2024-01-02T03:04:05Z"))
		rows.Append(row)
	}
	return rows
}

// BenchmarkJSONEncode is json.encode of a 100-row result.
func BenchmarkJSONEncode(b *testing.B) {
	s := newState(New(Config{}))
	defer s.close()
	encode, _ := jsonFuncs(s)
	rows := jsonRows(s.L)
	out, err := callJSON(s, encode, rows)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out.(lua.LString))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callJSON(s, encode, rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONDecode is json.decode of the text of a 100-row result.
func BenchmarkJSONDecode(b *testing.B) {
	s := newState(New(Config{}))
	defer s.close()
	encode, decode := jsonFuncs(s)
	text, err := callJSON(s, encode, jsonRows(s.L))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text.(lua.LString))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callJSON(s, decode, text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONDecodeTokens only reads the same text as a stream of
// encoding/json tokens, building nothing: the floor of a decoder built on
// json.Decoder.Token, for comparison with BenchmarkJSONDecode.
func BenchmarkJSONDecodeTokens(b *testing.B) {
	s := newState(New(Config{}))
	defer s.close()
	encode, _ := jsonFuncs(s)
	text, err := callJSON(s, encode, jsonRows(s.L))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text.(lua.LString))))
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(strings.NewReader(string(text.(lua.LString))))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
