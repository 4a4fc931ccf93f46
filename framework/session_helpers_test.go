package framework

import (
	"github.com/redis/go-redis/v9"

	"lasp/framework/session"
)

// sessionCookie names the session cookie in tests.
const sessionCookie = session.CookieName

// liveSessions is the number of sessions srv's in-process (memory) store
// keeps.
func liveSessions(srv *Server) int { return srv.sessions.(session.InProcess).Len() }

// redisClient is the Redis client of srv's session store, if it is in
// Redis.
func redisClient(srv *Server) (*redis.Client, bool) {
	rs, ok := srv.sessions.(interface{ Client() *redis.Client })
	if !ok {
		return nil, false
	}
	return rs.Client(), true
}
