package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/gorilla/securecookie"
)

// loadKeys reads the cookie keys of -keys FILE: one pair per line, a hash
// key and a block key in hex, the pair that encodes first (lines starting
// with # are comments). A file that does not exist is made, with one new
// pair, readable by its owner only.
func loadKeys(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return makeKeys(path)
	}
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want a hash key and a block key in hex", path, line)
		}
		hash, err1 := hex.DecodeString(f[0])
		block, err2 := hex.DecodeString(f[1])
		if err1 != nil || err2 != nil || (len(hash) != 32 && len(hash) != 64) || (len(block) != 16 && len(block) != 24 && len(block) != 32) {
			return nil, fmt.Errorf("%s:%d: want a 32 or 64 byte hash key and a 16, 24 or 32 byte block key, in hex", path, line)
		}
		keys = append(keys, hash, block)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", path)
	}
	return keys, nil
}

func makeKeys(path string) ([][]byte, error) {
	hash, block := securecookie.GenerateRandomKey(64), securecookie.GenerateRandomKey(32)
	if hash == nil || block == nil {
		return nil, errors.New("no random keys to be had")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintf(f, "# Lasp session cookie keys: hash key, block key (hex). The first line encodes;\n# to rotate, add a new line first and keep the old one until its cookies are gone.\n%x %x\n", hash, block)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return [][]byte{hash, block}, nil
}
