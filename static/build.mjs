// Bundles src/main.ts (and the CSS it imports) into dist/, with hashed names, and writes
// dist/index.html pointing at them. `--watch` rebuilds on every change.
import { context } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const watch = process.argv.includes("--watch");
const outdir = "dist";

const writeIndex = {
  name: "write-index",
  setup(build) {
    build.onStart(() => rm(outdir, { recursive: true, force: true }));
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const outputs = Object.keys(result.metafile.outputs).map((file) => "/" + path.relative(outdir, file));
      const script = outputs.find((file) => file.endsWith(".js"));
      const style = outputs.find((file) => file.endsWith(".css"));
      const html = (await readFile("index.html", "utf8"))
        .replace("<!-- style -->", `<link rel="stylesheet" href="${style}" />`)
        .replace("<!-- script -->", `<script type="module" src="${script}"></script>`);
      await mkdir(outdir, { recursive: true });
      await writeFile(path.join(outdir, "index.html"), html);
      console.log(`built ${outputs.join(", ")}`);
    });
  },
};

const ctx = await context({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: !watch,
  sourcemap: true,
  outdir: path.join(outdir, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  logLevel: "warning",
  plugins: [writeIndex],
});

if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
