package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Application contents shared by a farm (-application-store redis://…):
// lasp:app:v is a hash from each key, folded (case-insensitive), to its
// entry (the key as first spelled and its value, encoded by the caller);
// lasp:app:k orders the keys by when they were first set; lasp:app:lock
// is Application:Lock(), a fenced lease lock like a session's;
// lasp:app:done remembers the writes that applied lately, by token.

func (s *Store) appKeys() []string {
	return []string{s.prefix + "app:v", s.prefix + "app:k", s.prefix + "app:seq", s.prefix + "app:lock", s.prefix + "app:done"}
}

func (s *Store) appLockKeys() []string {
	return []string{s.prefix + "app:lock", s.prefix + "app:q", s.prefix + "app:w", s.prefix + "app:c"}
}

// AppGet returns the entry of a folded key; nil when there is none.
func (s *Store) AppGet(ctx context.Context, field string) ([]byte, error) {
	b, err := s.rdb.HGet(ctx, s.appKeys()[0], field).Bytes()
	if err == redis.Nil {
		return nil, nil
	}
	return b, err
}

// appWriteScript sets (or, with an empty entry, removes) one key; with a
// lock token, only if that lock still holds Application:Lock(). A write
// whose own token is remembered applied already: run again, it changes
// nothing. KEYS: v k seq lock done; ARGV: field entry lock fence write
// remembered. Returns 0 refused.
var appWriteScript = redis.NewScript(now + remember + `
if redis.call('ZSCORE', KEYS[5], ARGV[5]) then return 1 end
if ARGV[3] ~= '' then
  local l = redis.call('HMGET', KEYS[4], 'o', 'f', 'le')
  if l[1] ~= ARGV[3] or l[2] ~= ARGV[4] or tonumber(l[3]) < now then return 0 end
end
remember(KEYS[5], ARGV[5], ARGV[6])
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1], KEYS[2])
elseif ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1]) redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
  end
end
return 1
`)

// AppSet stores the entry of a folded key (an empty entry removes the key;
// an empty field removes every key). With lock (the caller holds
// Application:Lock()), Redis refuses the write with ErrLeaseLost when the
// lock's lease passed.
//
// Its outcome is known as a Commit's is: when a reply is lost, AppSet
// asks again (each write has its token, so a write is never applied
// twice) for up to Lease whatever becomes of ctx, and returns ErrUnknown
// if Redis did not answer by then. A write under the lock cannot apply
// after its lease; a write without it may, if Redis runs it late.
func (s *Store) AppSet(ctx context.Context, field string, entry []byte, lock *Record) error {
	token, fence := "", int64(0)
	if lock != nil {
		token, fence = lock.Token, lock.Fence
	}
	write := newToken()
	var n int
	err := settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		n, err = appWriteScript.Run(ctx, s.rdb, s.appKeys(), field, entry, token, fence, write, s.remembered()).Int()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// appAllScript returns every entry, in the order the keys were first set.
var appAllScript = redis.NewScript(`
local out = {}
for _, f in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local e = redis.call('HGET', KEYS[1], f)
  if e then table.insert(out, e) end
end
return out
`)

// AppAll returns every entry, in the order the keys were first set.
func (s *Store) AppAll(ctx context.Context) ([]string, error) {
	return appAllScript.Run(ctx, s.rdb, s.appKeys()[:2]).StringSlice()
}

// AppLen returns the number of keys.
func (s *Store) AppLen(ctx context.Context) (int64, error) {
	return s.rdb.HLen(ctx, s.appKeys()[0]).Result()
}

// AppLock waits for Application:Lock(), in arrival order across the farm,
// as long as ctx allows.
func (s *Store) AppLock(ctx context.Context) (*Record, error) {
	return s.lock(ctx, s.appLockKeys(), false)
}

// appUnlockScript releases Application:Lock() if the caller holds it.
var appUnlockScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'o', 'le')
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PUBLISH', KEYS[1] .. ':free', '') end
return 1
`)

// AppUnlock releases Application:Lock() held as rec.
func (s *Store) AppUnlock(ctx context.Context, rec *Record) error {
	return appUnlockScript.Run(ctx, s.rdb, s.appLockKeys()[:2], rec.Token).Err()
}

// AppHold renews the lease of Application:Lock() held as rec until stop.
func (s *Store) AppHold(rec *Record) (stop func()) { return s.Hold(s.appLockKeys()[0], rec) }

// appStartScript claims the farm's Application_OnStart for a token, or
// finds it claimed: by the same token (the claim ran already: its reply
// was lost) or another. KEYS: started; ARGV: token. Returns 1 claimed.
var appStartScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
`)

// AppStarted claims the farm's Application_OnStart: true for the first
// server to ask, until AppReset. The claim carries a token: asked again
// while its reply is lost (up to Lease), it still finds the claim its own.
func (s *Store) AppStarted(ctx context.Context) (bool, error) {
	token := newToken()
	var n int
	err := settle(ctx, s.Lease, func(ctx context.Context) (err error) {
		n, err = appStartScript.Run(ctx, s.rdb, []string{s.prefix + "app:started"}, token).Int()
		return err
	})
	return n == 1, err
}

// AppReset gives up the claim of AppStarted (its Application_OnStart
// failed), asking again while its reply is lost, up to Lease.
func (s *Store) AppReset(ctx context.Context) error {
	return settle(ctx, s.Lease, func(ctx context.Context) error { return s.rdb.Del(ctx, s.prefix+"app:started").Err() })
}
