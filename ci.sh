set -eu
AUTH="X-Nothing: 1"
id=$(curl -sf -X POST "$API/v1/jobs" -H "$AUTH" -H 'Content-Type: application/json' \
        --data-binary @ci/monas-job.json | grep -o '"id":[0-9]*' | head -1 | cut -d: -f2)
while :; do
    job=$(curl -sf --retry 5 --retry-connrefused -H "$AUTH" "$API/v1/jobs/$id?wait=120")
    printf '%s' "$job" | grep -q '"status":"running"' || break
done
printf '%s' "$job" | grep -Eq '"status":"(converged|exhausted)"' ||
    { echo "monas job $id did not finish: $job"; exit 1; }
curl -sf -H "$AUTH" "$API/v1/jobs/$id/candidates?fits=1&limit=1" | grep -q '"id":' ||
    { echo "no architecture meets the budgets"; exit 1; }
curl -sf -H "$AUTH" "$API/v1/jobs/$id/front?format=csv" > monas-front.csv
