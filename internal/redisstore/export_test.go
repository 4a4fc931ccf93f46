package redisstore

// Again makes rec's next commit a copy of its last, as settle sends it
// again when a reply is lost.
func (r *Record) Again() { r.writes-- }
