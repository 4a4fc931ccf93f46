-- shop: the Lasp Shop's helpers, loaded with require("shop"). A module runs
-- once per Lua state and sees Request, Response and Server but not Session:
-- pages pass what it needs, and it keeps no per-request data.
local M = {}

-- DB is the shop's database: a file under data/, which is never served.
M.DB = "sqlite:data/shop.db"

-- db opens the shop's database (connections are pooled by the server, so
-- opening one per page costs nothing).
function M.db()
  local db = Server.CreateObject("Lasp.Database")
  db:Open(M.DB)
  return db
end

-- money formats a price in cents: 1250 becomes "$12.50".
function M.money(cents)
  cents = math.floor(cents + 0.5)
  return string.format("$%d.%02d", math.floor(cents / 100), cents % 100)
end

-- hash is the demo's password hash: two polynomial hashes of salt and
-- password, stretched over 500 rounds.
--
-- It is NOT a real password hash. Lua in Lasp has no cryptographic
-- library, and this function is neither slow enough nor collision-resistant
-- enough to protect real passwords: it only keeps the demo from storing
-- "demo" in plain text. A real shop registers a Go component that uses
-- bcrypt or argon2 (framework.Config.Components) and calls it here.
function M.hash(salt, password)
  local s = salt .. ":" .. password
  local h1, h2 = 5381, 52711
  for round = 1, 500 do
    for i = 1, #s do
      local b = string.byte(s, i)
      h1 = (h1 * 33 + b) % 2147483647
      h2 = (h2 * 31 + b + round) % 2147483629
    end
  end
  return string.format("%08x%08x", h1, h2)
end

-- cartCount is the number of items in cart (product id → quantity).
function M.cartCount(cart)
  local n = 0
  for _, qty in pairs(cart or {}) do
    n = n + qty
  end
  return n
end

-- cartLines reads the products of cart from db: an array of
-- {product = row, qty = n, total = cents}, by product name, and the total.
function M.cartLines(db, cart)
  local lines, total = {}, 0
  for id, qty in pairs(cart or {}) do
    local p = db:QueryRow("SELECT id, name, price, stock, color, kind FROM products WHERE id = ?", tonumber(id))
    if p then
      lines[#lines + 1] = { product = p, qty = qty, total = p.price * qty }
      total = total + p.price * qty
    end
  end
  table.sort(lines, function(a, b) return a.product.name < b.product.name end)
  return lines, total
end

-- initials are the first letters of the first two words of name, for the
-- product tiles and the default avatar: "Jasmine Pearls" gives "JP".
function M.initials(name)
  local s = ""
  for w in string.gmatch(name or "", "%a+") do
    s = s .. string.upper(string.sub(w, 1, 1))
    if #s == 2 then break end
  end
  return s ~= "" and s or "?"
end

-- safeNext is where to go after signing in: next when it is a path on this
-- site ("/cart.lasp"), else the account page, so that a link cannot send a
-- visitor elsewhere.
function M.safeNext(next)
  if type(next) == "string" and string.match(next, "^/[%w%-%._/%?=&]*$") and not string.match(next, "^//") then
    return next
  end
  return "/account.lasp"
end

return M
