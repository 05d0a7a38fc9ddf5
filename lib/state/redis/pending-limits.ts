/**
 * `checkPendingLimits` (../pending-limits.ts) in Lua, for the Redis stores to run inside the one script that
 * records a request, so two replicas cannot both take the last place.
 *
 * @module
 */

/**
 * Defines `pending_limits(slots, bucket, per_bucket, total)`: `slots` are the live requests a new one from
 * `bucket` would wait beside (`{id, bucket, expires}`; buckets computed by the caller, never here). Returns
 * nil (room), `{'evict', id}` (it takes `id`'s place) or `{'limited', limit, earliest blocking expiry}`.
 */
export const PENDING_LIMITS_LUA = `
local function pending_limits(slots, bucket, per_bucket, total)
  local counts = {}
  for _, s in ipairs(slots) do counts[s.bucket] = (counts[s.bucket] or 0) + 1 end
  local mine = counts[bucket] or 0
  local function oldest(chosen)
    local pick = nil
    for _, s in ipairs(slots) do
      if chosen(s) and (pick == nil or s.expires < pick.expires or (s.expires == pick.expires and s.id < pick.id)) then
        pick = s
      end
    end
    return pick
  end
  if mine >= per_bucket then
    return {'limited', 'address', tostring(oldest(function(s) return s.bucket == bucket end).expires)}
  end
  if #slots < total then return nil end
  local largest = 0
  for _, c in pairs(counts) do if c > largest then largest = c end end
  if largest > mine and largest > 1 then
    return {'evict', oldest(function(s) return counts[s.bucket] == largest end).id}
  end
  return {'limited', 'total', tostring(oldest(function() return true end).expires)}
end
`;
