import { UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import type { Command } from "./command.js";
import { runRounds } from "./rounds.js";

const HELP = `Usage: mathcorpus k8s run --run DIR --sources SOURCE,... --tasks N --k8s-image IMAGE [options]

Runs a run on Kubernetes: each stage (the crawl, each round's scoring) is created as an Indexed Job
through the Kubernetes API of the cluster KUBECONFIG (or ~/.kube/config, or the pod's service
account) names, waited for, then the next; the rest of each round runs in this process.
\`mathcorpus k8s run ...\` is \`mathcorpus run --executor k8s ...\`: every option of \`run\` applies
(\`mathcorpus run --help\` lists them; the --k8s-* ones set the image, namespace, volume, CPUs,
memory and service account). --dry-run prints the crawl Job as YAML. Ctrl-C deletes the running
Job with its pods; the same command again runs only the tasks not done.
`;

export const command: Command = {
  name: "k8s",
  summary: "run a run's stages as Kubernetes Indexed Jobs (k8s run = run --executor k8s)",
  async run(argv: string[], io: Io): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help" || (sub === "run" && rest.some((a) => a === "--help" || a === "-h"))) {
      // every option of run applies: its help follows
      io.stdout.write(HELP + "\nThe options (those of `mathcorpus run`):\n\n");
      return runRounds("run", ["--help"], io);
    }
    if (sub !== "run") throw new UsageError(`k8s: unknown subcommand ${JSON.stringify(sub)}: the one there is is \`mathcorpus k8s run\``);
    if (rest.some((a) => a === "--executor" || a.startsWith("--executor="))) throw new UsageError("k8s run: --executor is k8s here; leave it out");
    return runRounds("run", ["--executor", "k8s", ...rest], io);
  },
};
