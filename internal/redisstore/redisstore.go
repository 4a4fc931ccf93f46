package redisstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is a connection to the Redis that a farm shares.
type Store struct {
	rdb            *redis.Client
	prefix         string
	expiry, ending string // the keys of the expiry index and of the ending sessions

	// Lease is how long a lock is held without renewal; a holder renews it
	// every Lease/3. A server that dies holding a lock blocks its session
	// for at most Lease.
	Lease time.Duration
	// Grace is how long a session's data outlives its deadline, for the
	// sweep to run Session_OnEnd.
	Grace time.Duration
	// ClaimFor is how long a server may take to run a Session_OnEnd it
	// claimed before another server may claim it again.
	ClaimFor time.Duration
	// StaleWaiter is how long a queued waiter may go without asking
	// before it loses its place.
	StaleWaiter time.Duration

	wakeMu  sync.Mutex
	sub     *redis.PubSub                     // lock releases and wants, once a wait or a kept lock needed them
	waiters map[string]map[chan struct{}]bool // by lock key
	wanted  func(id string)                   // see OnWanted
}

// ErrLeaseLost is a commit refused because the lock's lease passed (or
// another request holds it now): nothing of the commit was applied, and
// nothing of it ever will be.
var ErrLeaseLost = errors.New("the session lock's lease passed before the commit: the commit was refused")

// ErrUnknown is a write whose outcome Redis did not tell: its reply was
// lost, and asking again got no answer within the write's bound (Lease).
// It may have applied.
var ErrUnknown = errors.New("redis did not answer: whether the write applied is unknown")

// ErrClaimLapsed is a Done that came after the caller's claim lapsed:
// another server claimed the session since, and ends it.
var ErrClaimLapsed = errors.New("the claim on the session lapsed: another server ends it")

// Open connects to the Redis named by url (redis://host:port/db). It does
// not wait for Redis to answer: a farm server starts while Redis is down
// and serves what needs no session. It silences go-redis's own logger,
// which is package-wide: the store's callers log its errors.
func Open(url string) (*Store, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis store %q: %w", url, err)
	}
	opt.ContextTimeoutEnabled = true
	opt.DialTimeout = time.Second
	opt.ReadTimeout = 2 * time.Second
	opt.WriteTimeout = 2 * time.Second
	// go-redis would send a call again after a lost reply: the store does
	// that itself, for the calls that can be sent twice (see settle), and
	// knows then that a call that could not connect was never sent.
	opt.MaxRetries = -1
	return &Store{rdb: redis.NewClient(opt), prefix: "lasp:", expiry: "lasp:expiry", ending: "lasp:ending",
		Lease: 10 * time.Second, Grace: 10 * time.Minute, ClaimFor: 5 * time.Minute, StaleWaiter: 2 * time.Second}, nil
}

// QuietGoRedis silences go-redis's own logger, for the whole program: it
// writes a line for every failed dial while Redis is down, and the store's
// users log its errors themselves (throttled). It is a process-wide setting
// of go-redis, so the store never makes it: serve does, at start; a program
// that embeds Lasp and uses go-redis for itself decides for itself.
func QuietGoRedis() { redis.SetLogger(discard{}) }

// discard is a go-redis logger that writes nothing.
type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// Close closes the connections.
func (s *Store) Close() error {
	s.wakeMu.Lock()
	if s.sub != nil {
		s.sub.Close()
	}
	s.wakeMu.Unlock()
	return s.rdb.Close()
}

// Client is the underlying client, for tests and tools.
func (s *Store) Client() *redis.Client { return s.rdb }

// sessionKeys are the keys a session's scripts touch: s q w expiry ending c.
func (s *Store) sessionKeys(id string) []string {
	return []string{s.key("s", id), s.key("q", id), s.key("w", id), s.expiry, s.ending, s.key("c", id)}
}

// key is the key of the given kind for session id.
func (s *Store) key(kind, id string) string { return s.prefix + kind + ":{" + id + "}" }

// settle runs write, an idempotent call (sent again after it applied, it
// says so and changes nothing), under ctx. If Redis answers it, or never
// got it, the outcome is known. If the attempt failed so that the outcome
// is hidden (a lost reply, a timeout, a broken connection), settle sends it
// again, after a short pause, until Redis answers or bound has passed
// since the first attempt, whatever becomes of ctx meanwhile: a request
// near its deadline, or whose client left, still learns whether its write
// applied. Past bound the outcome is unknown (ErrUnknown).
func settle(ctx context.Context, bound time.Duration, write func(context.Context) error) error {
	until := time.Now().Add(bound)
	err := write(ctx)
	if err == nil || refused(err) || unsent(err) {
		return err
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
	defer cancel()
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		t := time.NewTimer(pause + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %v", ErrUnknown, err)
		case <-t.C:
		}
		// A copy that Redis refuses answers for those sent before it (they
		// reached Redis first, and would have made it say the write
		// applied), unless the refusal passes (Redis is loading its data,
		// or busy): an earlier copy may yet be answered for.
		if err = write(ctx); err == nil || refused(err) && !passing(err) {
			return err
		}
	}
}

// refused reports whether err is Redis's refusal of a call (an error
// reply): the call did not run.
func refused(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// passing reports whether err is a refusal that passes by itself.
func passing(err error) bool {
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "NOREPLICAS", "ERR max number of clients"} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

// unsent reports whether err shows that the call never reached Redis: no
// connection could be had. go-redis does not send a call again by itself
// (Open turns its retries off), so the error is the one attempt's.
func unsent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed)
}

// remembered is how long Redis remembers that a write applied, in ms:
// twice the longest a writer asks again (Lease).
func (s *Store) remembered() int64 { return 2 * s.Lease.Milliseconds() }

// Record is a session as loaded.
type Record struct {
	Data    []byte
	Timeout time.Duration
	// Token and Fence identify the lock a Lock call took; zero for Read.
	Token string
	Fence int64
	// Claim is the token of the claim on the session's Session_OnEnd
	// that a Commit abandoning it took, for Done.
	Claim string
	// Queued says that Lock had to wait: another request held the lock.
	Queued bool

	held   atomic.Int64 // see HeldUntil, Unix nanoseconds
	writes int          // commits made under the lock, for their tokens
}

// HeldUntil is when the lock's lease ends at the earliest, by this
// process's clock: the lease Redis granted or renewed counted from when
// the call was sent, before Redis read its own clock.
func (r *Record) HeldUntil() time.Time { return time.Unix(0, r.held.Load()) }

// leased records that Redis granted or renewed r's lease in a call sent
// at sent.
func (r *Record) leased(sent time.Time, lease time.Duration) {
	r.held.Store(sent.Add(lease).UnixNano())
}

// write is the token of r's next commit: each commit under one lock is a
// write of its own, so that a kept lock's second commit is not taken for
// a copy of its first.
func (r *Record) write() string { return r.Token + "." + strconv.Itoa(r.writes) }

// newToken returns a random lock token.
func newToken() string {
	var b [12]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// now is Redis's clock in ms, in a script. It is read when the script
// runs: a script that a stalled Redis runs late sees the late time.
const now = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// remember is a script function (after now) that records in the sorted
// set key that the write token applied, for ms, forgetting older ones: a
// copy of the write run later finds it there and changes nothing.
const remember = `local function remember(key, token, ms)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ms))
  redis.call('ZADD', key, now, token)
  redis.call('PEXPIRE', key, ms)
end
`

// slide is a script function (after now) that moves session s's deadline
// to now + to and returns the fields to set with it. The deadline in s
// (dl) is exact; its score in the expiry set and the key's TTL (to +
// grace) are moved only when the score last set (x) is behind by over 1 %
// of the timeout or a tenth of the grace, whichever is less, or ahead: a
// session that takes several requests a second costs one ZADD and
// PEXPIRE every few seconds, not one each. An early score only makes the
// sweeper look at the session early (it finds dl later and scores it
// again), and the key outlives dl by at least nine tenths of the grace.
// The previous deadline (prev) lies in the same window unless something
// else wrote it (a server of an earlier version, which moves both on
// every request but leaves x): then both are moved.
const slide = `local function slide(s, expiry, id, to, grace, x, prev, force)
  local dl, lag = now + to, math.min(to / 100, tonumber(grace) / 10)
  x, prev = tonumber(x), tonumber(prev)
  if force or not x or not prev or dl < x or dl - x > lag or prev < x or prev - x > lag then
    redis.call('PEXPIRE', s, to + tonumber(grace))
    redis.call('ZADD', expiry, dl, id)
    return {'dl', dl, 'x', dl}
  end
  return {'dl', dl}
end
`

// lockScript grants the lock of a session to the token if it is free and
// the token is first in the queue; else it queues the token, and tells
// the holder that the lock is wanted (a server that keeps it between
// requests then gives it back, see OnWanted).
// A lock taken over from a holder whose lease passed remembers that
// holder's last write (see commitScript), whose reply it may still await.
// KEYS: s q w c; ARGV: token lease staleWaiter mustExist remembered
// Returns {0} no such session, {1, fence, data, timeout} granted, {2} wait.
var lockScript = redis.NewScript(now + remember + `
local s, q, w, token = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local v = redis.call('HMGET', s, 'dl', 'o', 'le', 'end', 'wo', 'wn')
local held = v[2] and tonumber(v[3]) >= now
if ARGV[4] == '1' and (not v[1] or v[4] or (tonumber(v[1]) < now and not held)) then
  redis.call('ZREM', q, token) redis.call('HDEL', w, token)
  return {0}
end
while true do
  local head = redis.call('ZRANGE', q, 0, 0)[1]
  if not head or head == token then break end
  if tonumber(redis.call('HGET', w, head) or '0') + tonumber(ARGV[3]) >= now then break end
  redis.call('ZREM', q, head) redis.call('HDEL', w, head)
end
local head = redis.call('ZRANGE', q, 0, 0)[1]
local free = (not v[2]) or v[2] == token or tonumber(v[3]) < now
if free and (not head or head == token) then
  redis.call('ZREM', q, token) redis.call('HDEL', w, token)
  if redis.call('ZCARD', q) == 0 then redis.call('DEL', w) end
  if v[2] and v[2] ~= token and v[5] == v[2] then remember(KEYS[4], v[5] .. '.' .. v[6], ARGV[5]) end
  local f = redis.call('HINCRBY', s, 'f', 1)
  redis.call('HSET', s, 'o', token, 'le', now + tonumber(ARGV[2]))
  if redis.call('PTTL', s) < tonumber(ARGV[2]) * 2 then redis.call('PEXPIRE', s, tonumber(ARGV[2]) * 2) end
  local d = redis.call('HMGET', s, 'd', 'to')
  return {1, f, d[1] or '', tonumber(d[2] or '0')}
end
redis.call('ZADD', q, 'NX', redis.call('HINCRBY', w, '#', 1), token)
redis.call('HSET', w, token, now)
redis.call('PEXPIRE', q, tonumber(ARGV[3]) * 10) redis.call('PEXPIRE', w, tonumber(ARGV[3]) * 10)
if not free then redis.call('PUBLISH', s .. ':want', '') end
return {2}
`)

// Lock waits for the lock of session id, in arrival order and as long as
// ctx allows, and loads the session. It returns nil when there is no such
// session (or it ended). A session past its deadline whose lock is still
// held is not expired: its holder's commit will slide it.
func (s *Store) Lock(ctx context.Context, id string) (*Record, error) {
	k := s.sessionKeys(id)
	return s.lock(ctx, []string{k[0], k[1], k[2], k[5]}, true)
}

func (s *Store) lock(ctx context.Context, keys []string, mustExist bool) (*Record, error) {
	token := newToken()
	exist := "0"
	if mustExist {
		exist = "1"
	}
	pause := 2 * time.Millisecond
	var free chan struct{}
	for queued := false; ; queued = true {
		sent := time.Now()
		res, err := lockScript.Run(ctx, s.rdb, keys, token, s.Lease.Milliseconds(), s.StaleWaiter.Milliseconds(), exist, s.remembered()).Slice()
		if err != nil {
			// Unless Redis was not reached, the script may have run all
			// the same (the reply was lost, or ctx ended on the way):
			// leave no token queued and no lock held by a caller that is
			// gone.
			if !unsent(err) {
				s.giveUp(keys, token)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		switch res[0].(int64) {
		case 0:
			return nil, nil
		case 1:
			data, _ := res[2].(string)
			rec := &Record{Data: []byte(data), Timeout: time.Duration(res[3].(int64)) * time.Millisecond,
				Token: token, Fence: res[1].(int64), Queued: queued}
			rec.leased(sent, s.Lease)
			return rec, nil
		}
		// Queued: ask again when the holder says the lock is free, or
		// soon in any case (a holder that died says nothing; the news can
		// be missed). The pause grows to 50 ms (well within the time a
		// waiter may stay silent), with jitter so waiters of several
		// servers do not ask in step.
		if free == nil {
			free = s.listen(keys[0])
			defer s.unlisten(keys[0], free)
		}
		t := time.NewTimer(pause + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			s.giveUp(keys, token)
			return nil, ctx.Err()
		case <-free:
			t.Stop()
		case <-t.C:
		}
		pause = min(pause*2, 50*time.Millisecond, s.StaleWaiter/10)
	}
}

// listen returns a channel that receives when the lock on key is
// released while waiters are queued.
func (s *Store) listen(key string) chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	s.subscribe()
	c := make(chan struct{}, 1)
	if s.waiters[key] == nil {
		s.waiters[key] = map[chan struct{}]bool{}
	}
	s.waiters[key][c] = true
	return c
}

// subscribe makes the Store's one subscription (PSUBSCRIBE <prefix>*:free
// <prefix>*:want), on the first wait or OnWanted, and keeps it. It runs
// under wakeMu.
func (s *Store) subscribe() {
	if s.sub != nil {
		return
	}
	s.sub = s.rdb.PSubscribe(context.Background(), s.prefix+"*:free", s.prefix+"*:want")
	s.waiters = map[string]map[chan struct{}]bool{}
	ch := s.sub.Channel()
	go func() {
		for msg := range ch {
			if key, ok := strings.CutSuffix(msg.Channel, ":want"); ok {
				s.want(key)
			} else {
				s.wake(strings.TrimSuffix(msg.Channel, ":free"))
			}
		}
	}()
}

// OnWanted makes f be called, with the session's ID, when a request
// queues for the lock of a session while another holds it. A server that
// keeps locks between requests (CommitKeep, Keep) gives them back then.
// Like any message of Redis's pub/sub, a call can be missed (the
// subscription was being made, or its connection broke): a waiter asks
// again each time it polls, so one that is missed delays it by a poll.
func (s *Store) OnWanted(f func(id string)) {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	s.wanted = f
	s.subscribe()
}

// want passes the want of the session whose lock is key to OnWanted's f.
func (s *Store) want(key string) {
	s.wakeMu.Lock()
	f := s.wanted
	s.wakeMu.Unlock()
	tag, ok := strings.CutPrefix(key, s.prefix+"s:{")
	if id, ok2 := strings.CutSuffix(tag, "}"); ok && ok2 && f != nil {
		f(id)
	}
}

func (s *Store) unlisten(key string, c chan struct{}) {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	delete(s.waiters[key], c)
	if len(s.waiters[key]) == 0 {
		delete(s.waiters, key)
	}
}

// wake tells this server's waiters for key that its lock is free.
func (s *Store) wake(key string) {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	for c := range s.waiters[key] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// giveUpScript takes a waiter that gave up out of the queue, and releases
// the lock if it was granted to it. KEYS: s q w; ARGV: token.
var giveUpScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'o') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'o', 'le')
  redis.call('PUBLISH', KEYS[1] .. ':free', '')
end
redis.call('ZREM', KEYS[2], ARGV[1]) redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[3]) end
`)

// giveUp takes a waiter that gave up out of the queue and gives back a
// lock granted to it whose grant it did not see. If Redis does not answer,
// the grant may still come (a stalled Redis runs the lock's script when it
// resumes): giveUp asks again in the background, up to Lease, so that such
// a grant is given back at once rather than held for a whole lease.
func (s *Store) giveUp(keys []string, token string) {
	run := func(ctx context.Context) error { return giveUpScript.Run(ctx, s.rdb, keys, token).Err() }
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := run(ctx)
	cancel()
	if err != nil && !refused(err) {
		go settle(context.Background(), s.Lease, run)
	}
}

// readScript loads a session without its lock and slides its deadline.
// KEYS: s expiry; ARGV: grace id. Returns {0} or {1, data, timeout}.
var readScript = redis.NewScript(now + slide + `
local v = redis.call('HMGET', KEYS[1], 'd', 'to', 'dl', 'end', 'o', 'le', 'x')
if not v[3] or v[4] then return {0} end
if tonumber(v[3]) < now and not (v[5] and tonumber(v[6]) >= now) then return {0} end
local to = tonumber(v[2])
redis.call('HSET', KEYS[1], unpack(slide(KEYS[1], KEYS[2], ARGV[2], to, ARGV[1], v[7], v[3])))
return {1, v[1] or '', to}
`)

// Read loads session id as last committed, without the lock, and slides
// its expiry: what a ReadOnly page sees. Nil means no such session.
func (s *Store) Read(ctx context.Context, id string) (*Record, error) {
	k := s.sessionKeys(id)
	res, err := readScript.Run(ctx, s.rdb, []string{k[0], k[3]}, s.Grace.Milliseconds(), id).Slice()
	if err != nil {
		return nil, err
	}
	if res[0].(int64) == 0 {
		return nil, nil
	}
	data, _ := res[1].(string)
	return &Record{Data: []byte(data), Timeout: time.Duration(res[2].(int64)) * time.Millisecond}, nil
}

// createScript makes a new session. KEYS: s expiry c; ARGV: data timeout
// grace id token remembered. Returns 0 if the ID exists (and this
// create's token did not make it).
var createScript = redis.NewScript(now + remember + `
if redis.call('ZSCORE', KEYS[3], ARGV[5]) then return 1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local to = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'to', to, 'dl', now + to, 'x', now + to, 'f', 0)
redis.call('PEXPIRE', KEYS[1], to + tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], now + to, ARGV[4])
remember(KEYS[3], ARGV[5], ARGV[6])
return 1
`)

// Create stores a new session. Like Commit, it asks again while its reply
// is lost, for up to Lease whatever becomes of ctx, and returns ErrUnknown
// if Redis did not answer by then.
func (s *Store) Create(ctx context.Context, id string, data []byte, timeout time.Duration) error {
	k := s.sessionKeys(id)
	token := newToken()
	var n int
	err := settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		n, err = createScript.Run(ctx, s.rdb, []string{k[0], k[3], k[5]}, data, timeout.Milliseconds(), s.Grace.Milliseconds(), id, token, s.remembered()).Int()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("session %.8s exists already", id)
	}
	return nil
}

// commitScript saves a locked session and releases its lock, if the lock
// is still the caller's: same token, same fence, lease not passed (by
// Redis's clock when the script runs). With keep, and nobody queued for
// the lock, the caller keeps it instead, for a new lease: its next request
// needs no round trip to take it. With a new ID (and no abandon) the
// session moves to it in the same step: the old ID finds nothing from then
// on, and its waiters, told the lock is free, find no session.
//
// A commit is applied once, however often it is sent (settle sends it
// again while its reply is lost; a stalled Redis may run a copy late, even
// after a later commit): sent again, it answers as the first time (from
// what it left: the claim, or the lock still the caller's) and changes
// nothing. The commits under one lock are numbered (the write token is
// the lock's token and the number), and s holds the last applied one (wo,
// wn): a copy of it or of an earlier one is known while the lock is the
// caller's, with no other call. A write that gives the lock up (releases,
// abandons or moves the session) is remembered in c for a while, since
// the next holder's writes replace wo and wn; so is a keeper's last write
// when another lock takes the session over from its passed lease (see
// lockScript).
//
// KEYS: s expiry ending q c s(new); ARGV: token fence hasData data timeout
// abandon grace id claim remembered newID write keep lease n (the write's
// number). Returns 0 refused, 1 saved, 2 ended (abandoned, and claimed
// with the write token), 3 the new ID is taken, 4 saved and kept. Waiters
// in the queue are told the lock is free (see wait).
var commitScript = redis.NewScript(now + remember + slide + `
local v = redis.call('HMGET', KEYS[1], 'o', 'f', 'le', 'wo', 'wn', 'cl', 'x', 'dl')
local mine = v[1] == ARGV[1] and v[2] == ARGV[2]
if (v[4] == ARGV[1] and tonumber(v[5]) >= tonumber(ARGV[15])) or (not mine and redis.call('ZSCORE', KEYS[5], ARGV[12])) then
  if v[6] == ARGV[12] then return 2 end
  if mine then return 4 end
  return 1
end
if not mine or tonumber(v[3]) < now then return 0 end
local s, id = KEYS[1], ARGV[8]
if ARGV[11] ~= '' and ARGV[6] ~= '1' then
  if redis.call('EXISTS', KEYS[6]) == 1 then return 3 end
  redis.call('RENAME', KEYS[1], KEYS[6])
  redis.call('ZREM', KEYS[2], ARGV[8])
  s, id = KEYS[6], ARGV[11]
end
local to = tonumber(ARGV[5])
local keep = ARGV[13] == '1' and ARGV[6] ~= '1' and ARGV[11] == '' and redis.call('EXISTS', KEYS[4]) == 0
local f = {'to', to, 'wo', ARGV[1], 'wn', ARGV[15]}
if ARGV[3] == '1' then f[#f+1] = 'd' f[#f+1] = ARGV[4] end
if keep then
  f[#f+1] = 'le' f[#f+1] = now + tonumber(ARGV[14])
else
  remember(KEYS[5], ARGV[12], ARGV[10])
  redis.call('HDEL', s, 'o', 'le')
  if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('PUBLISH', KEYS[1] .. ':free', '') end
end
if ARGV[6] == '1' then
  f[#f+1] = 'end' f[#f+1] = 1 f[#f+1] = 'cl' f[#f+1] = ARGV[12]
  redis.call('HSET', s, unpack(f))
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[9]), id)
  redis.call('PEXPIRE', s, tonumber(ARGV[9]) + tonumber(ARGV[7]))
  return 2
end
for _, x in ipairs(slide(s, KEYS[2], id, to, ARGV[7], v[7], v[8], s ~= KEYS[1])) do f[#f+1] = x end
redis.call('HSET', s, unpack(f))
if keep then return 4 end
return 1
`)

// Commit saves the session locked as rec (data nil: unchanged) with its
// timeout, and releases the lock; with abandon the session ends instead,
// claimed by the caller, who must run its Session_OnEnd and then call
// Done with rec.Claim. With a newID (Session:RenewID) the session moves to
// it in the same step, unless it is abandoned.
//
// Its outcome is known: nil means it applied; ErrUnknown that Redis did
// not answer in time, and it may have; any other error (ErrLeaseLost,
// Redis unreachable, a refusal) that it did not and never will. When a
// reply is lost, Commit asks again (the commit is idempotent) until Redis
// answers, for up to Lease whatever becomes of ctx: by then the lease has
// passed, and a commit that has not applied never will.
func (s *Store) Commit(ctx context.Context, id string, rec *Record, data []byte, timeout time.Duration, abandon bool, newID string) error {
	_, err := s.commit(ctx, id, rec, data, timeout, abandon, newID, false)
	return err
}

// CommitKeep is Commit (without abandon or a new ID) that keeps the lock
// when nobody is queued for it: kept, rec holds it for a new lease, which
// the caller may use for the session's next request (rec.HeldUntil says
// until when), commit again, and must give back with Release when Redis
// says it is wanted (OnWanted). Nothing else can change the session
// meanwhile: what rec last committed is what it holds.
func (s *Store) CommitKeep(ctx context.Context, id string, rec *Record, data []byte, timeout time.Duration) (kept bool, err error) {
	return s.commit(ctx, id, rec, data, timeout, false, "", true)
}

func (s *Store) commit(ctx context.Context, id string, rec *Record, data []byte, timeout time.Duration, abandon bool, newID string, keep bool) (kept bool, err error) {
	k := s.sessionKeys(id)
	moved := k[0]
	if newID != "" {
		moved = s.key("s", newID)
	}
	has, ab, kp := "0", "0", "0"
	if data != nil {
		has = "1"
	}
	if abandon {
		ab = "1"
	}
	if keep {
		kp = "1"
	}
	num := rec.writes
	write := rec.write()
	rec.writes++
	sent := time.Now()
	var n int
	err = settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		n, err = commitScript.Run(ctx, s.rdb, []string{k[0], k[3], k[4], k[1], k[5], moved}, rec.Token, rec.Fence, has, data,
			timeout.Milliseconds(), ab, s.Grace.Milliseconds(), id, s.ClaimFor.Milliseconds(), s.remembered(), newID,
			write, kp, s.Lease.Milliseconds(), num).Int()
		return err
	})
	switch {
	case err != nil:
		return false, err
	case n == 0:
		return false, ErrLeaseLost
	case n == 2:
		rec.Claim = write
	case n == 3:
		return false, fmt.Errorf("session %.8s: the new ID is taken", newID)
	case n == 4:
		rec.leased(sent, s.Lease)
		return true, nil
	}
	return false, nil
}

// releaseScript releases a lock without saving, if the caller holds it,
// and slides the session's deadline. With keep, and the lock still the
// caller's (fence and lease) with nobody queued for it, the caller keeps
// it instead, for a new lease. Released, the caller's last commit under
// the lock is remembered (see commitScript): an operator may release a
// lock (Break) whose holder still awaits that commit's reply. KEYS: s
// expiry q c; ARGV: token grace id keep fence lease remembered. Returns 0
// not held, 1 released, 2 kept.
var releaseScript = redis.NewScript(now + remember + slide + `
local l = redis.call('HMGET', KEYS[1], 'o', 'f', 'le', 'to', 'end', 'x', 'wo', 'wn', 'dl')
if l[1] ~= ARGV[1] then return 0 end
local keep = ARGV[4] == '1' and l[2] == ARGV[5] and tonumber(l[3]) >= now and not l[5] and redis.call('EXISTS', KEYS[3]) == 0
if keep then
  redis.call('HSET', KEYS[1], 'le', now + tonumber(ARGV[6]))
else
  redis.call('HDEL', KEYS[1], 'o', 'le')
  if l[7] == ARGV[1] then remember(KEYS[4], l[7] .. '.' .. l[8], ARGV[7]) end
  if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PUBLISH', KEYS[1] .. ':free', '') end
end
if l[4] and not l[5] then
  redis.call('HSET', KEYS[1], unpack(slide(KEYS[1], KEYS[2], ARGV[3], tonumber(l[4]), ARGV[2], l[6], l[9])))
end
if keep then return 2 end
return 1
`)

// Release releases the lock rec holds without saving anything (a page
// that failed, or a kept lock that is wanted).
func (s *Store) Release(ctx context.Context, id string, rec *Record) error {
	_, err := s.release(ctx, id, rec, false)
	return err
}

// Keep is Release that keeps the lock, as CommitKeep does, when nobody is
// queued for it, and slides the session's deadline either way: for a
// request that changed nothing.
func (s *Store) Keep(ctx context.Context, id string, rec *Record) (kept bool, err error) {
	return s.release(ctx, id, rec, true)
}

func (s *Store) release(ctx context.Context, id string, rec *Record, keep bool) (kept bool, err error) {
	k := s.sessionKeys(id)
	kp := "0"
	if keep {
		kp = "1"
	}
	sent := time.Now()
	n, err := releaseScript.Run(ctx, s.rdb, []string{k[0], k[3], k[1], k[5]}, rec.Token, s.Grace.Milliseconds(), id, kp, rec.Fence, s.Lease.Milliseconds(), s.remembered()).Int()
	if n == 2 {
		rec.leased(sent, s.Lease)
	}
	return n == 2, err
}

// renewScript extends the lease of the caller's lock.
// KEYS: s; ARGV: token fence lease. Returns 0 when the lock is not the
// caller's any more.
var renewScript = redis.NewScript(now + `
local v = redis.call('HMGET', KEYS[1], 'o', 'f', 'le')
if v[1] ~= ARGV[1] or v[2] ~= ARGV[2] or tonumber(v[3]) < now then return 0 end
redis.call('HSET', KEYS[1], 'le', now + tonumber(ARGV[3]))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) * 2 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2) end
return 1
`)

// Renew extends rec's lease; false means it was lost (the commit will be
// refused).
func (s *Store) Renew(ctx context.Context, key string, rec *Record) (bool, error) {
	sent := time.Now()
	n, err := renewScript.Run(ctx, s.rdb, []string{key}, rec.Token, rec.Fence, s.Lease.Milliseconds()).Int()
	if n == 1 {
		rec.leased(sent, s.Lease)
	}
	return n == 1, err
}

// SessionKey is the key of session id, for Renew.
func (s *Store) SessionKey(id string) string { return s.key("s", id) }

// Hold renews rec's lease on key every Lease/3 until the returned stop is
// called; the first time sooner if less than twice that is left of it (a
// kept lock taken up again).
func (s *Store) Hold(key string, rec *Record) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // t is set before the first renewal reads it
	defer mu.Unlock()
	first := min(s.Lease/3, max(time.Until(rec.HeldUntil())/2, 0))
	t = time.AfterFunc(first, func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.Lease/3)
		ok, err := s.Renew(ctx, key, rec)
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if !stopped && (err != nil || ok) { // lost: the commit will say so
			t.Reset(s.Lease / 3)
		}
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}

// claimScript claims sessions whose Session_OnEnd is due: expired ones,
// and ended ones whose claim by another server lapsed (it died running
// the event). Each claimed session's cl is the claim's token, and the
// claimed IDs are kept in the list KEYS[3] for a while: run again (its
// reply was lost), the claim returns the same sessions, those still
// claimed with its token, and claims no more.
// KEYS: expiry ending claimed; ARGV: max claim prefix token remembered.
// Returns a flat list of id, data pairs.
var claimScript = redis.NewScript(now + `
local out = {}
if redis.call('EXISTS', KEYS[3]) == 1 then
  for _, id in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    local v = redis.call('HMGET', ARGV[3] .. 's:{' .. id .. '}', 'cl', 'd')
    if v[1] == ARGV[4] then table.insert(out, id) table.insert(out, v[2] or '') end
  end
  return out
end
local max, claim = tonumber(ARGV[1]), tonumber(ARGV[2])
local function take(s, id)
  redis.call('HSET', s, 'cl', ARGV[4])
  redis.call('RPUSH', KEYS[3], id)
  table.insert(out, id) table.insert(out, redis.call('HGET', s, 'd') or '')
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do
  local s = ARGV[3] .. 's:{' .. id .. '}'
  if redis.call('EXISTS', s) == 1 then
    redis.call('ZADD', KEYS[2], now + claim, id)
    redis.call('PEXPIRE', s, claim * 2)
    take(s, id)
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)) do
  local s = ARGV[3] .. 's:{' .. id .. '}'
  local v = redis.call('HMGET', s, 'dl', 'o', 'le', 'end')
  if not v[1] or v[4] then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(v[1]) > now then
    redis.call('ZADD', KEYS[1], v[1], id)
  elseif v[2] and tonumber(v[3]) >= now then
    redis.call('ZADD', KEYS[1], tonumber(v[3]), id)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HSET', s, 'end', 1)
    redis.call('HDEL', s, 'o', 'le')
    redis.call('ZADD', KEYS[2], now + claim, id)
    redis.call('PEXPIRE', s, claim * 2)
    take(s, id)
  end
end
if #out > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
return out
`)

// Ended is a session whose Session_OnEnd is due.
type Ended struct {
	ID   string
	Data []byte
	// Claim is the token of the claim, for Done.
	Claim string
}

// Claim takes up to max sessions whose Session_OnEnd is due, for this
// server to run; after each, call Done. Two servers never claim one
// session at once; a claim not done within ClaimFor is taken again. A
// claim whose reply was lost is asked again (it is idempotent), for up to
// Lease whatever becomes of ctx: the sessions it took are not left to
// lapse.
func (s *Store) Claim(ctx context.Context, max int) ([]Ended, error) {
	token := newToken()
	keys := []string{s.expiry, s.ending, s.prefix + "claim:" + token}
	var res []string
	err := settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		res, err = claimScript.Run(ctx, s.rdb, keys, max, s.ClaimFor.Milliseconds(), s.prefix, token, s.remembered()).StringSlice()
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Ended, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		out = append(out, Ended{ID: res[i], Data: []byte(res[i+1]), Claim: token})
	}
	return out, nil
}

// doneScript removes a session whose Session_OnEnd has run, unless another
// claim than the caller's holds it. KEYS: s q w c ending; ARGV: id claim.
// Returns 0 when the claim lapsed and was taken again.
var doneScript = redis.NewScript(`
local cl = redis.call('HGET', KEYS[1], 'cl')
if cl and cl ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1
`)

// Done removes a session whose Session_OnEnd has run under claim (the
// token of Ended.Claim, or of the Record whose commit abandoned it), so
// that it is never claimed again. It is idempotent: while its reply is
// lost it asks again, for up to Lease whatever becomes of ctx, and returns
// ErrUnknown if Redis did not answer. The caller should then call it again
// later: if no Done reaches Redis before the claim lapses, the session's
// Session_OnEnd runs again, on whichever server claims it. ErrClaimLapsed
// means that happened already.
func (s *Store) Done(ctx context.Context, id, claim string) error {
	k := s.sessionKeys(id)
	var n int
	err := settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		n, err = doneScript.Run(ctx, s.rdb, []string{k[0], k[1], k[2], k[5], k[4]}, id, claim).Int()
		return err
	})
	if err == nil && n == 0 {
		return ErrClaimLapsed
	}
	return err
}

// Sessions is how many sessions are live (for status and tests).
func (s *Store) Sessions(ctx context.Context) (int64, error) {
	return s.rdb.ZCard(ctx, s.expiry).Result()
}

// Expiring is a live session and when it expires (by Redis's clock) unless
// a request comes.
type Expiring struct {
	ID       string
	Deadline time.Time
}

// Soonest lists up to n live sessions, those expiring soonest first, and
// counts them all, in one round trip (for status pages).
func (s *Store) Soonest(ctx context.Context, n int) ([]Expiring, int64, error) {
	var count *redis.IntCmd
	var soonest *redis.ZSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		count = p.ZCard(ctx, s.expiry)
		soonest = p.ZRangeWithScores(ctx, s.expiry, 0, int64(n)-1)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	list := make([]Expiring, 0, len(soonest.Val()))
	for _, z := range soonest.Val() {
		id, _ := z.Member.(string)
		list = append(list, Expiring{ID: id, Deadline: time.UnixMilli(int64(z.Score))})
	}
	return list, count.Val(), nil
}
