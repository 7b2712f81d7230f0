-- wrk script of the cache benchmark's hit path: cycles through 100 keys, /hit/k1 … /hit/k100,
-- which the runner has cached in every target beforehand.
local n = 0
request = function()
  n = n % 100 + 1
  return wrk.format("GET", "/hit/k" .. n)
end
