-- wrk script for the session counter (bench/peers.sh): run with as many
-- threads as connections (wrk -t32 -c32) so each thread is one client that
-- keeps the cookie it was given. It also checks that every client's count
-- went up by one per response (that the cookie was kept).
local threads = {}
local jar, cookie = {}, nil
last = 0
bad = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if cookie then
    return wrk.format(nil, nil, { Cookie = cookie })
  end
  return wrk.format()
end

function response(status, headers, body)
  for k, v in pairs(headers) do
    if string.lower(k) == "set-cookie" then
      local name, value = string.match(v, "^%s*([^=;]+)=([^;]*)")
      if name then
        jar[name] = value
        local parts = {}
        for k2, v2 in pairs(jar) do table.insert(parts, k2 .. "=" .. v2) end
        cookie = table.concat(parts, "; ")
      end
    end
  end
  local n = tonumber(string.match(body or "", "%d+"))
  if status ~= 200 or n ~= last + 1 then bad = bad + 1 end
  if n then last = n end
end

function done(summary, latency, requests)
  local lo, hi, nbad = nil, 0, 0
  for _, t in ipairs(threads) do
    local l = t:get("last")
    if lo == nil or l < lo then lo = l end
    if l > hi then hi = l end
    nbad = nbad + t:get("bad")
  end
  io.write(string.format("counter: clients %d, final counts %d..%d, unexpected responses %d\n", #threads, lo or 0, hi, nbad))
end
