-- Argo CD health for integration.b2b.dev Certificate and IntegrationAccount (docs/operations.md):
-- a spec not yet observed -> Progressing, Stalled -> Degraded, Ready -> Healthy, anything
-- else (waiting, retrying, no status yet) -> Progressing. Argo CD opens no string library,
-- and a condition may lack a reason or a message: only `..` on values known to be strings.
local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  return reason .. message
end

local hs = { status = "Progressing", message = "waiting for the operator" }
local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.message = "waiting for the operator to observe the latest spec"
  return hs
end
for _, c in ipairs(status.conditions) do
  if c.type == "Stalled" and c.status == "True" then
    hs.status = "Degraded"
    hs.message = describe(c)
    return hs
  end
end
-- A rejected renewal (RenewalReady=False) keeps the last good version synced: still Healthy,
-- the message says which renewal waits.
local renewal = nil
for _, c in ipairs(status.conditions) do
  if c.type == "RenewalReady" and c.status == "False" then
    renewal = "; RenewalReady=False: " .. describe(c)
  end
end
for _, c in ipairs(status.conditions) do
  if c.type == "Ready" then
    hs.message = describe(c)
    if c.status == "True" then
      hs.status = "Healthy"
      if renewal ~= nil then
        hs.message = hs.message .. renewal
      end
    end
    return hs
  end
end
return hs
