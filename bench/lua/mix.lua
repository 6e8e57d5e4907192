-- The HTTP write mix: spawn -> artifact-status ground -> artifact-status carried -> deposit, over a
-- pool of pre-created sessions (one id per line in the file named by the first argument).
-- wrk calls response() per thread and does not say which connection or request an answer
-- belongs to, so each spawn carries its session's index in x (170 + index / scale: an exact
-- binary fraction, echoed back in artifact.position.x), and a spawn answer is enough to put
-- (session, artifact) on this thread's queue. request() takes the four kinds in turn; each
-- status change takes the oldest artifact of the previous stage, so every artifact is grounded,
-- carried and deposited exactly once (a spawn is sent instead while a queue is empty).
-- Second argument "placeholder": the target (uWS hello-world) has no sessions, so spawns queue a
-- stand-in artifact when sent; the bytes on the wire stay the same size.

local function queue() return { first = 1, last = 0 } end
local function push(q, v) q.last = q.last + 1; q[q.last] = v end
local function pop(q)
  if q.first > q.last then return nil end
  local v = q[q.first]
  q[q.first] = nil
  q.first = q.first + 1
  return v
end

local sessions = {}
local spawned, grounded, carried = queue(), queue(), queue()
local turn = 0
local next_session = 0
local scale = 1
local placeholder = false
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then sessions[#sessions + 1] = line end
  end
  placeholder = args[2] == "placeholder"
  while #sessions / scale > 684 do scale = scale * 2 end
  -- Threads start at different places of the pool.
  next_session = (thread_index or 0) * 7919
end

local function status_request(item, status)
  return wrk.format("POST", "/api/sessions/" .. sessions[item[1] + 1] .. "/artifact-status", headers,
    '{"artifactId":"' .. item[2] .. '","status":"' .. status .. '"}')
end

function request()
  turn = turn + 1
  local step = turn % 4
  local item
  if step == 1 then
    item = pop(spawned)
    if item ~= nil then push(grounded, item); count_sent("ground"); return status_request(item, "ground") end
  elseif step == 2 then
    item = pop(grounded)
    if item ~= nil then push(carried, item); count_sent("carried"); return status_request(item, "carried") end
  elseif step == 3 then
    item = pop(carried)
    if item ~= nil then
      count_sent("deposit")
      return wrk.format("POST", "/api/sessions/" .. sessions[item[1] + 1] .. "/deposit", headers, '{"artifactId":"' .. item[2] .. '"}')
    end
  end
  local index = next_session % #sessions
  next_session = next_session + 1
  count_sent("spawn")
  if placeholder then push(spawned, { index, "artifact_0_placeholder" }) end
  return wrk.format("POST", "/api/sessions/" .. sessions[index + 1] .. "/spawn", headers,
    string.format('{"x":%.17g,"y":218}', 170 + index / scale))
end

function response(status, headers, body)
  if not count_answer(status) or placeholder then return end
  local artifact = body:match('"id":"(artifact_[^"]*)"')
  if artifact == nil then return end
  local x = tonumber(body:match('"x":([%d%.eE+-]+)'))
  if x == nil then return end
  push(spawned, { math.floor((x - 170) * scale + 0.5), artifact })
end
