#!/usr/bin/env bash
# Deploys a pushed image to the StockDesk CloudFormation stack on ECS, the CI/CD deploy
# job's one command; docs/release.md tells the steps and what each failure leaves behind.
# Usage: scripts/ecs-deploy.sh IMAGE_URI    env: AWS_REGION (required), STACK_NAME
# (default stockdesk). Every failure prints one ::error:: line and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "::error::$*"; exit 1; }
usage() { echo "::error::$1 (usage: scripts/ecs-deploy.sh IMAGE_URI; env AWS_REGION required, STACK_NAME default stockdesk)"; exit 2; }
[[ $# -eq 1 && -n $1 ]] || usage "IMAGE_URI is required"
[ -n "${AWS_REGION:-}" ] || usage "AWS_REGION is not set"
IMAGE=$1
STACK_NAME=${STACK_NAME:-stockdesk}
TEMPLATE=deploy/stack.yaml
[ -f "$TEMPLATE" ] || fail "$TEMPLATE not found"
command -v aws >/dev/null || fail "the AWS CLI (aws) is not installed"
export AWS_PAGER=""  # AWS CLI v2 would page long answers through less
cli() { aws --region "$AWS_REGION" "$@"; }

# `py FUNCTION ARGS...`: reads an AWS answer (JSON) on stdin, prints one result; bad
# data exits non-zero with the reason on stderr.
PY_TOOLS=$(cat <<'PYTHON'
import json, sys

READ_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes",
             "compatibilities", "registeredAt", "registeredBy", "deregisteredAt")
MIGRATE = "python manage.py migrate --noinput && python manage.py setup_schedules"

def outputs(answer, *keys):
    values = {o["OutputKey"]: o["OutputValue"] for o in answer or []}  # null: none
    if missing := [key for key in keys if not values.get(key)]:
        sys.exit(f"the stack has no output {', '.join(missing)}")
    return " ".join(values[key] for key in keys)

def reasons(answer):
    return "; ".join(f"{f.get('reason')} {f.get('arn', '')}" for f in answer.get("failures", []))

def service(answer, name, field):
    found = [s for s in answer["services"] if name in (s["serviceName"], s["serviceArn"])]
    if not found or found[0]["status"] != "ACTIVE":
        sys.exit(f"ECS service {name} is not active: {reasons(answer) or 'not found'}")
    if field == "primary":
        return next(d["taskDefinition"] for d in found[0]["deployments"] if d["status"] == "PRIMARY")
    return found[0][field]

def container(answer, name):
    definition = answer["taskDefinition"]
    if found := [c for c in definition["containerDefinitions"] if c["name"] == name]:
        return found[0]
    sys.exit(f"task definition {definition['family']} has no container {name}")

def image(answer, name):
    return container(answer, name)["image"]

def registered_arn(answer):
    return answer["taskDefinition"]["taskDefinitionArn"]

def migrate_definition(answer, family, new_image):
    web = container(answer, "web")  # alone: sidecars serve traffic, dependsOn names them
    for key in ("portMappings", "healthCheck", "dependsOn"):
        web.pop(key, None)
    web.update(image=new_image, command=["sh", "-c", MIGRATE], essential=True)
    definition = {k: v for k, v in answer["taskDefinition"].items() if k not in READ_ONLY}
    return {**definition, "family": family, "containerDefinitions": [web]}

def started_task(answer):  # the task's ARN, or why none started
    return answer["tasks"][0]["taskArn"] if answer.get("tasks") else reasons(answer) or "?"

def exit_code(answer):
    task = answer["tasks"][0]
    web = next((c for c in task.get("containers", []) if c["name"] == "web"), {})
    if task.get("lastStatus") != "STOPPED":
        return f"the task is still {task.get('lastStatus')} (the wait gave up)"
    if web.get("exitCode") is None:
        reason = task.get("stoppedReason") or web.get("reason") or "no reason given"
        return f"it stopped without an exit code: {reason}"
    return str(web["exitCode"])

def log_location(answer, task_arn, default_group):
    options = container(answer, "web").get("logConfiguration", {}).get("options", {})
    group = options.get("awslogs-group", default_group)
    stream = f"{options.get('awslogs-stream-prefix', 'web')}/web/{task_arn.rsplit('/', 1)[-1]}"
    return f"CloudWatch log group {group}, stream {stream}"

def failed_events(answer, stack):
    failed = []
    for event in answer["StackEvents"]:  # newest first, back to this update's start
        if event["ResourceStatus"].endswith("_FAILED"):
            failed.append(f"  {event['LogicalResourceId']} ({event['ResourceType']}) "
                          f"{event['ResourceStatus']}: {event.get('ResourceStatusReason', '')}")
        if event["LogicalResourceId"] == stack and event["ResourceStatus"] in (
                "UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS"):
            break
    return "\n".join(reversed(failed)) or "  (none found)"

function, *args = sys.argv[1:]
result = globals()[function](json.load(sys.stdin), *args)
print(result if isinstance(result, str) else json.dumps(result))
PYTHON
)
py() { python3 -c "$PY_TOOLS" "$@"; }

echo "Deploying $IMAGE to stack $STACK_NAME in $AWS_REGION"

# --- 1. the stack outputs -------------------------------------------------------------
stack_outputs=$(cli cloudformation describe-stacks --stack-name "$STACK_NAME" \
  --query 'Stacks[0].Outputs' --output json) || fail "Cannot read stack $STACK_NAME in $AWS_REGION"
names=$(py outputs ClusterName WebServiceName WorkerServiceName WebTaskFamily \
  WorkerTaskFamily LogGroupName <<<"$stack_outputs") || fail "Stack $STACK_NAME lacks an output"
read -r CLUSTER WEB_SERVICE WORKER_SERVICE WEB_FAMILY _ LOG_GROUP <<<"$names"

# --- 2. the rollback targets ----------------------------------------------------------
describe_services() {
  cli ecs describe-services --cluster "$CLUSTER" --services "$WEB_SERVICE" "$WORKER_SERVICE" --output json
}
services=$(describe_services) || fail "Cannot describe the services of cluster $CLUSTER"
web_before=$(py service "$WEB_SERVICE" taskDefinition <<<"$services") || fail "No web service"
worker_before=$(py service "$WORKER_SERVICE" taskDefinition <<<"$services") || fail "No worker service"
network=$(py service "$WEB_SERVICE" networkConfiguration <<<"$services") || fail "No web network"
printf 'Rollback targets (what the services run now):\n  web     %s\n  worker  %s\n' \
  "$web_before" "$worker_before"

# --- 3. migrations, once, before any service changes ---------------------------------
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
web_definition=$(cli ecs describe-task-definition --task-definition "$web_before" --output json) \
  || fail "Cannot describe $web_before"
py migrate_definition "$WEB_FAMILY-migrate" "$IMAGE" <<<"$web_definition" >"$work/migrate.json" \
  || fail "Cannot derive the migration task definition from $web_before"
registered=$(cli ecs register-task-definition --cli-input-json "file://$work/migrate.json" \
  --output json) || fail "Cannot register the migration task definition"
migrate_arn=$(py registered_arn <<<"$registered") || fail "No migration task definition ARN"
# --started-by: 36 characters at most; the commit, else the image's tag or digest.
ref=${GITHUB_SHA:-} && ref=${ref:0:12}
[ -n "$ref" ] || { ref=${IMAGE##*/} && ref=${ref#*[:@]} && ref=${ref#sha256:} && ref=${ref:0:28}; }
run=$(cli ecs run-task --cluster "$CLUSTER" --launch-type FARGATE --count 1 \
  --task-definition "$migrate_arn" --network-configuration "$network" \
  --started-by "migrate-${ref//[^A-Za-z0-9_-]/-}" --output json) || fail "Cannot start the migration task"
task_arn=$(py started_task <<<"$run") || fail "Cannot read the answer of run-task"
[[ $task_arn == arn:* ]] || fail "The migration task did not start ($task_arn); the services were not changed"
echo "Migration task $task_arn ($migrate_arn) is running"
for _ in 1 2 3; do  # each wait gives up after 10 minutes
  cli ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task_arn" && break
done
tasks=$(cli ecs describe-tasks --cluster "$CLUSTER" --tasks "$task_arn" --output json) \
  || fail "Cannot describe the migration task $task_arn"
code=$(py exit_code <<<"$tasks") || fail "Cannot read the migration's exit code"
logs=$(py log_location "$task_arn" "$LOG_GROUP" <<<"$web_definition") || logs="log group $LOG_GROUP"
case $code in
  0) echo "Migrations done (output: $logs)" ;;
  [0-9]*) fail "Migrations failed with exit code $code; the services were not changed. Output: $logs" ;;
  *) fail "The migration task failed: $code; the services were not changed. Output: $logs" ;;
esac

# --- 4. the stack update (new revisions, rolling deployments, waits until stable) -----
echo "Updating stack $STACK_NAME to ImageUri=$IMAGE"
if ! cli cloudformation deploy --template-file "$TEMPLATE" --stack-name "$STACK_NAME" \
  --parameter-overrides "ImageUri=$IMAGE" --capabilities CAPABILITY_NAMED_IAM \
  --no-fail-on-empty-changeset; then
  echo "Failed stack events of this update:"
  cli cloudformation describe-stack-events --stack-name "$STACK_NAME" --max-items 100 \
    --output json | py failed_events "$STACK_NAME" || echo "  (cannot read the stack events)"
  echo "The services were rolled back to web $web_before and worker $worker_before"
  fail "The stack update failed and was rolled back: web runs ${web_before##*/}, worker ${worker_before##*/}"
fi

# --- 5. both services' primary deployments run the new image -------------------------
services=$(describe_services) || fail "Cannot describe the services of cluster $CLUSTER"
for pair in "web=$WEB_SERVICE" "worker=$WORKER_SERVICE"; do
  kind=${pair%%=*} name=${pair#*=}
  primary=$(py service "$name" primary <<<"$services") || fail "No primary deployment of $name"
  running=$(cli ecs describe-task-definition --task-definition "$primary" --output json \
    | py image "$kind") || fail "Cannot read the image of $primary"
  [ "$running" = "$IMAGE" ] || fail "The $kind service runs $running (${primary##*/}), not $IMAGE"
  echo "$kind now runs ${primary##*/} ($primary)"
done
echo "Deployed $IMAGE"
