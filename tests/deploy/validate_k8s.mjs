// Renders every overlay of deploy/k8s with `kubectl kustomize`, validates each
// object against its Kubernetes schema (kubernetes-models, KEDA's for the
// ScaledObject) and checks the fields the deployment relies on.
// Usage: node tests/deploy/validate_k8s.mjs REPO_ROOT INGEST_COORDINATOR
// Exit 0 all good, 1 a check failed, 77 skipped (a tool is missing).
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [root, coordinator] = process.argv.slice(2);
let yaml;
try {
  yaml = await import("yaml");
  await import("kubernetes-models");
} catch {
  console.log("SKIP: tests/deploy/node_modules is missing (scripts/setup.sh runs npm ci there)");
  process.exit(77);
}
try {
  execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
} catch {
  console.log("SKIP: kubectl (with kustomize) is not installed");
  process.exit(77);
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// The module of a kind: kubernetes-models/apps/v1/Deployment and the like.
async function modelOf(apiVersion, kind) {
  if (apiVersion === "keda.sh/v1alpha1") {
    return (await import(`@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`))[kind];
  }
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  return (await import(`kubernetes-models/${group}/${kind}`))[kind];
}

function render(dir) {
  const text = execFileSync("kubectl", ["kustomize", join(root, dir)], { encoding: "utf8" });
  return yaml.parseAllDocuments(text).map((d) => d.toJSON()).filter(Boolean);
}

const labelKeys = ["app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
                   "app.kubernetes.io/component"];
const find = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const podSpecOf = (o) => o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template;

// Every overlay's ingest.yaml must load: `ingest-coordinator check` with
// the env of its pods.
function checkConfig(where, configMap, envMap) {
  const dir = mkdtempSync(join(tmpdir(), "ingestfleet-k8s-"));
  try {
    const file = join(dir, "ingest.yaml");
    writeFileSync(file, configMap.data["ingest.yaml"]);
    execFileSync(coordinator, ["check", "--syntax-only", "--config", file], { env: { ...process.env, ...envMap.data }, stdio: "pipe" });
  } catch (e) {
    failures.push(`${where}: ingest-coordinator check of the ConfigMap's ingest.yaml: ${e.stderr ?? e.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const baseCronJob = find(render("deploy/k8s/overlays/prod"), "CronJob", "ingestfleet-coordinator");

for (const overlay of ["dev", "staging", "prod", "daemon", "keda"]) {
  const objects = render(`deploy/k8s/overlays/${overlay}`);
  const at = (what) => `${overlay}: ${what}`;
  for (const o of objects) {
    const name = `${o.kind}/${o.metadata?.name}`;
    try {
      const Model = await modelOf(o.apiVersion, o.kind);
      check(Model !== undefined, at(`${name}: no schema for ${o.apiVersion} ${o.kind}`));
      if (Model) new Model(o).validate();
    } catch (e) {
      failures.push(at(`${name} does not validate: ${e.message}`));
    }
    for (const key of labelKeys) check(o.metadata.labels?.[key], at(`${name} has no label ${key}`));
  }

  const env = find(objects, "ConfigMap", objects.find((o) => o.metadata.name.startsWith("ingestfleet-env"))?.metadata.name);
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.startsWith("ingestfleet-config"));
  check(env && config, at("the ingestfleet-env and ingestfleet-config ConfigMaps"));
  if (["dev", "staging", "prod"].includes(overlay)) check(env?.data.INGEST_ENV === overlay, at(`INGEST_ENV=${overlay}`));
  if (env && config) checkConfig(overlay, config, env);
  const taskTimeout = yaml.parse(config?.data["ingest.yaml"] ?? "{}")?.fleet?.task_timeout_s ?? 600;

  const cronJob = find(objects, "CronJob", "ingestfleet-coordinator");
  const daemon = find(objects, "Deployment", "ingestfleet-coordinator");
  if (overlay === "daemon") {
    check(!cronJob, at("the daemon overlay has no CronJob"));
    check(daemon?.spec.replicas === 1 && daemon?.spec.strategy.type === "Recreate", at("one serve replica, Recreate"));
    const c = daemon?.spec.template.spec.containers[0];
    check(c?.args[1] === "serve", at("the daemon runs serve"));
    check(c?.readinessProbe?.grpc?.port === 50051 && c?.livenessProbe?.grpc?.port === 50051,
          at("the daemon is probed through the gRPC health service"));
    // Its pod is the CronJob's but for the command and the probes.
    const strip = (pod) => {
      const copy = structuredClone(pod);
      delete copy.spec.restartPolicy;
      for (const k of ["args", "readinessProbe", "livenessProbe", "image"]) delete copy.spec.containers[0][k];
      // A Job's name, for the CronJob's --scheduled-for; serve makes its own slots.
      copy.spec.containers[0].env = (copy.spec.containers[0].env ?? []).filter((e) => e.name !== "INGEST_JOB_NAME");
      delete copy.metadata;
      // Generated ConfigMap names end in a hash of their overlay's values.
      return JSON.stringify(copy).replace(/(ingestfleet-(?:config|env))-[a-z0-9]{10}/g, "$1");
    };
    check(daemon && strip(daemon.spec.template) === strip(podSpecOf(baseCronJob)),
          at("the daemon's pod spec has drifted from the CronJob's"));
  } else {
    check(cronJob, at("a CronJob ingestfleet-coordinator"));
    const s = cronJob?.spec ?? {};
    check(s.concurrencyPolicy === "Forbid", at("concurrencyPolicy: Forbid"));
    check(s.timeZone && s.startingDeadlineSeconds > 0, at("timeZone and startingDeadlineSeconds"));
    check(s.successfulJobsHistoryLimit >= 1 && s.failedJobsHistoryLimit >= 1, at("history limits"));
    const job = s.jobTemplate?.spec ?? {};
    check(job.backoffLimit >= 0 && job.backoffLimit <= 3, at("a small backoffLimit"));
    check(job.activeDeadlineSeconds > 0 && job.ttlSecondsAfterFinished > 0, at("activeDeadlineSeconds, ttlSecondsAfterFinished"));
    const rules = job.podFailurePolicy?.rules ?? [];
    check(rules[0]?.action === "Ignore" && rules[0]?.onPodConditions?.[0]?.type === "DisruptionTarget",
          at("disruptions are ignored first"));
    const failJob = rules.find((r) => r.action === "FailJob");
    check(failJob?.onExitCodes?.operator === "In" && [2, 4].every((c) => failJob.onExitCodes.values.includes(c)),
          at("exit codes 2 and 4 fail the Job at once"));
    check(failJob?.onExitCodes?.containerName === "coordinator", at("the FailJob rule names the coordinator container"));
    const pod = job.template?.spec ?? {};
    check(pod.restartPolicy === "Never", at("restartPolicy: Never"));
    check(pod.containers?.[0]?.args?.[1] === "run", at("the CronJob runs `ingest-coordinator run`"));
    // One slot, one outcome: the Pod passes its Job's name, which ends in the slot.
    const args = pod.containers?.[0]?.args ?? [];
    check(args[args.indexOf("--scheduled-for") + 1] === "job:$(INGEST_JOB_NAME)",
          at("the run is told its slot: --scheduled-for job:$(INGEST_JOB_NAME)"));
    const jobName = (pod.containers?.[0]?.env ?? []).find((e) => e.name === "INGEST_JOB_NAME");
    check(jobName?.valueFrom?.fieldRef?.fieldPath === "metadata.labels['batch.kubernetes.io/job-name']",
          at("INGEST_JOB_NAME comes from the Pod's batch.kubernetes.io/job-name label (downward API)"));
    if (overlay === "prod") check(s.schedule === "0 2 * * *", at("prod runs at 02:00"));
  }

  const coordinatorPod = podSpecOf(cronJob ?? daemon);
  const service = find(objects, "Service", "ingestfleet-coordinator");
  check(matches(service?.spec.selector, coordinatorPod?.metadata?.labels), at("the Service selects the coordinator pod"));
  check(["fleet", "admin", "metrics"].every((p) => service?.spec.ports.some((x) => x.name === p)),
        at("the Service has the fleet, admin and metrics ports"));

  const worker = find(objects, "Deployment", "ingestfleet-worker");
  const w = worker?.spec.template.spec;
  const c = w?.containers[0];
  check(c?.args.includes("tcp://ingestfleet-coordinator:5555"), at("workers connect to the Service's fleet port"));
  check(c?.readinessProbe?.exec?.command.includes("--ready"), at("worker readiness: probe --ready"));
  check(c?.livenessProbe?.exec?.command.includes("probe") && !c.livenessProbe.exec.command.includes("--ready"),
        at("worker liveness: probe without --ready (a worker waiting for the next run is live)"));
  check(w?.terminationGracePeriodSeconds > taskTimeout, at("terminationGracePeriodSeconds > fleet.task_timeout_s"));
  check(w?.securityContext?.runAsNonRoot && c?.securityContext?.readOnlyRootFilesystem &&
        c?.securityContext?.capabilities?.drop?.includes("ALL") && !c?.securityContext?.allowPrivilegeEscalation,
        at("workers: non-root, read-only root filesystem, no capabilities"));
  check(c?.resources?.requests?.cpu && c?.resources?.limits?.memory, at("worker requests and limits"));
  const pdb = find(objects, "PodDisruptionBudget", "ingestfleet-worker");
  check(matches(pdb?.spec.selector.matchLabels, worker?.spec.template.metadata.labels), at("the PDB selects the workers"));
  const hpa = find(objects, "HorizontalPodAutoscaler", "ingestfleet-worker");
  const scaled = find(objects, "ScaledObject", "ingestfleet-worker");
  if (overlay === "keda") {
    check(!hpa, at("no HPA beside KEDA's"));
    check(scaled?.spec.scaleTargetRef.name === "ingestfleet-worker" &&
          scaled?.spec.triggers[0].metadata.query.includes("ingestfleet_queue_depth"),
          at("the ScaledObject scales the workers on ingestfleet_queue_depth"));
  } else {
    check(hpa?.spec.scaleTargetRef.name === "ingestfleet-worker", at("an HPA scales the workers"));
  }
  const policy = find(objects, "NetworkPolicy", "ingestfleet-worker");
  const egressPorts = (policy?.spec.egress ?? []).flatMap((e) => e.ports.map((p) => p.port)).sort();
  check(JSON.stringify(egressPorts) === JSON.stringify([53, 53, 5555]), at("workers reach only the fleet port and DNS"));
  check(matches(policy?.spec.egress[0].to[0].podSelector.matchLabels, coordinatorPod?.metadata?.labels),
        at("the workers' egress goes to the coordinator pod"));
  for (const o of [cronJob ? coordinatorPod : daemon?.spec.template, worker?.spec.template]) {
    for (const v of o?.spec.volumes ?? []) {
      if (v.persistentVolumeClaim) {
        check(find(objects, "PersistentVolumeClaim", v.persistentVolumeClaim.claimName),
              at(`the claim ${v.persistentVolumeClaim.claimName} exists`));
      }
    }
  }
  const secrets = objects.filter((o) => o.kind === "Secret");
  check(overlay === "dev" ? secrets.length === 1 : secrets.length === 0, at("an example Secret in dev only"));
  for (const o of [cronJob ? coordinatorPod : daemon?.spec.template, worker?.spec.template]) {
    for (const x of o?.spec.containers ?? []) check(/^ingestfleet:\S+$/.test(x.image), at(`image ${x.image} has a tag`));
  }
  console.log(`${overlay}: ${objects.length} objects rendered and validated`);
}

if (failures.length > 0) {
  for (const f of failures) console.log(`FAIL ${f}`);
  process.exit(1);
}
console.log("deploy/k8s: every overlay renders, validates and has what the deployment needs");
