/**
 * The module piscina loads in each worker thread: it imports the ES module that holds the real
 * task (`workerData.esmTask`, a file URL) once, and hands every task to its default export.
 *
 * Why not give piscina the ES module itself: piscina loads a task module with `require()` first,
 * and on Node ≥ 20.19 requiring an ES module that is being imported at the same moment can abort
 * the whole process ("FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated
 * module"; it happened to an extraction worker under the test runner). A CommonJS entry that only
 * uses `import()` never takes that path.
 */
const { workerData } = require("piscina") as { workerData: { esmTask: string } };

type Task = (task: unknown) => unknown;
let handler: Promise<Task> | undefined;

module.exports = async function esmTask(task: unknown): Promise<unknown> {
  handler ??= import(workerData.esmTask).then((m: { default: Task }) => m.default);
  return (await handler)(task);
};
