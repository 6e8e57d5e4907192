-- One fixed request (method, path, optional JSON body from the arguments), the same for every
-- connection: create (POST /api/sessions, no body, as the game sends it) and stats
-- (GET /api/sessions/stats). Arguments after `--`: method path kind [body].

function init(args)
  local headers = {}
  if args[4] ~= nil then headers["Content-Type"] = "application/json" end
  fixed = wrk.format(args[1], args[2], headers, args[4])
  kind = args[3]
end

function request()
  count_sent(kind)
  return fixed
end

function response(status, headers, body)
  count_answer(status)
end
