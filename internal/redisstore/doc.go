// Package redisstore keeps sessions and Application contents in Redis, for
// a web farm: any server can serve any request, one session's requests run
// one at a time across every server, and each session ends once in the
// whole farm.
//
// It stores bytes (scope.Contents.MarshalBinary) and knows nothing of
// HTTP or Lua.
//
// # Keys
//
// A session is one hash, lasp:s:{ID} (the braces are a cluster hash tag),
// with the fields
//
//	d    the data
//	to   Session.Timeout, ms
//	dl   the deadline: when the session expires, ms (Redis's clock)
//	x    the deadline last written to lasp:expiry (and the key's TTL)
//	f    the fence: how many times the lock was granted
//	o    the lock's holder (a random token per request), while locked
//	le   the end of the holder's lease, ms
//	end  1 once the session ended (Abandon, expiry): it is no longer found
//	cl   the token of the claim on its Session_OnEnd, once it ended
//	wo   the lock (its token) under which the last commit applied
//	wn   that commit's number under the lock
//
// The key's TTL is the timeout plus a grace period, so that the sweep can
// still read the data for Session_OnEnd; the session itself expires at dl.
// A request moves dl to now + timeout; it moves the session's score in
// lasp:expiry and the TTL only when they lag dl by over 1 % of the
// timeout or a tenth of the grace, whichever is less (or are ahead of
// it), so that a session taking many requests a second costs Redis one
// sorted-set write every few seconds, and its key outlives dl by at least
// nine tenths of the grace.
// An early score makes the sweep look at the session early, find dl later,
// and score it again.
// Waiters for a lock queue in lasp:q:{ID} (a sorted set by arrival, from
// a counter kept in lasp:w:{ID}) and show they are alive in lasp:w:{ID}.
// The expiry index lasp:expiry holds every live session by deadline;
// lasp:ending the sessions whose Session_OnEnd a server has claimed, by
// when the claim lapses. lasp:c:{ID} remembers the session's writes
// (creation, commits) that applied lately, by token; lasp:claim:TOKEN the
// sessions a claim took.
//
// # The lock
//
// A lock is a lease: granted for Lease, renewed while its holder runs, and
// fenced: each grant increments f, and a commit must carry the holder's
// token and fence and arrive before the lease ends, or Redis refuses it.
// A holder that stalled past its lease (or a server that died) can thus
// never overwrite what the next holder did. Waiters are granted the lock in
// arrival order; a waiter that stops asking (its server died) is dropped
// from the queue after StaleWaiter.
//
// A holder may keep its lock past its commit (CommitKeep, Keep) for its
// session's next request, while nobody is queued for it: the lock gets a
// new lease, and since nobody else can change the session meanwhile, the
// holder's copy of it stays the committed one. A waiter that queues behind
// a held lock publishes <key>:want, which a keeper hears (OnWanted) and
// answers by releasing the lock; a holder's commit or Keep releases it
// instead of keeping it when it finds the queue not empty. Each commit
// under a kept lock is a write of its own (its token is the lock's token
// and its number), so a second commit is never taken for a copy of the
// first.
//
// # Outcomes
//
// A write's reply can be lost (a timeout, a reset connection, a Redis that
// stalled and runs the write late), and go-redis may send it again. So
// every write carries a token, and Redis remembers the tokens of the
// writes that applied for twice the lease: a copy of a write that applied
// answers as the first did and changes nothing. A commit that keeps its
// lock is remembered in the session itself (wo, wn), which costs no write
// of its own: while the lock is the holder's, a copy of its last commit or
// of an earlier one is known by its number. Commits that give the lock up
// are remembered in lasp:c:{ID}, and so is a keeper's last commit when
// another server takes the lock over from its passed lease. A writer whose reply is
// lost asks again, until Redis answers or the lease has passed: a commit
// (or a write under Application:Lock()) cannot apply after its lease,
// which Redis checks by its own clock as the script runs, so Commit
// reports nil only when the commit applied, ErrLeaseLost only when it did
// not and never will, and ErrUnknown when Redis stayed silent.
//
// It imports only the standard library and go-redis: never Lua, HTTP or
// another package of the module (deps_test.go).
package redisstore
