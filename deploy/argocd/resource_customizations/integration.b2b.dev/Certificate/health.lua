-- Argo CD health for integration.b2b.dev Certificate and IntegrationAccount (see
-- docs/operations.md): Stalled -> Degraded, Ready -> Healthy, anything else -> Progressing.
hs = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
     and obj.status.observedGeneration < obj.metadata.generation then
    hs.status = "Progressing"
    hs.message = "waiting for the operator to observe the latest spec"
    return hs
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      hs.status = "Degraded"
      hs.message = c.reason .. ": " .. c.message
      return hs
    end
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      if c.status == "True" then hs.status = "Healthy" else hs.status = "Progressing" end
      hs.message = c.reason .. ": " .. c.message
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "waiting for the operator"
return hs
