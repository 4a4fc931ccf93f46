package session

import (
	"encoding/binary"
	"errors"

	"lasp/scope"
)

// encode is how the shared stores keep a session: its data, then, when it
// has kept objects, their states. Nil data is an empty session.
func encode(data, objects *scope.Contents) ([]byte, error) {
	if data == nil {
		data = Empty
	}
	d, err := data.MarshalBinary()
	if err != nil || objects == nil || objects.Len() == 0 {
		return d, err
	}
	o, err := objects.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte{withObjects}, binary.AppendUvarint(nil, uint64(len(d)))...)
	return append(append(b, d...), o...), nil
}

// withObjects starts an encoded session that has kept objects; an
// encoding of data alone starts with the data's version (1).
const withObjects = 0xFE

// decode reads what encode wrote; objects is nil when there are none.
func decode(b []byte) (data, objects *scope.Contents, err error) {
	data = scope.NewContents("Session")
	if len(b) == 0 {
		return data, nil, nil
	}
	if b[0] != withObjects {
		return data, nil, data.UnmarshalBinary(b)
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)-1-k) {
		return nil, nil, errors.New("the saved session is cut short")
	}
	d, o := b[1+k:1+k+int(n)], b[1+k+int(n):]
	if err := data.UnmarshalBinary(d); err != nil {
		return nil, nil, err
	}
	objects = scope.NewContents("Session objects")
	if err := objects.UnmarshalBinary(o); err != nil {
		return nil, nil, err
	}
	return data, objects, nil
}

// Empty is the data of a session that holds nothing; never changed.
var Empty = scope.NewContents("Session")
