// breadth.Experiment: experiment files run from Python (docs/experiments.md), and the pieces that
// breadth.distributed hands to Ray workers (generate_block) and keeps on the driver (commit_block).
#include "breadth/experiment.hpp"
#include "callbacks.hpp"
#include "module.hpp"

namespace breadth::python {
namespace {

/// One dict per point: pandas.DataFrame(rows) gives the points' table.
py::list summary_rows(const ExperimentSummary& s) {
  py::list rows;
  for (const auto& p : s.points) {
    py::dict d;
    d["point"] = p.name;
    d["method"] = p.method;
    d["kind"] = p.kind;
    for (const auto& [k, v] : p.figures) d[py::str(k)] = v;
    d["error"] = p.error.empty() ? py::object(py::none()) : py::object(py::str(p.error));
    rows.append(d);
  }
  return rows;
}

}  // namespace

void bind_experiment(py::module_& m) {
  py::class_<PromptOutput>(m, "PromptOutput", "One prompt's lines of a point's files (generate_block's result).")
      .def(py::init<>())
      .def_readwrite("generations_line", &PromptOutput::generations_line)
      .def_readwrite("provenance_line", &PromptOutput::provenance_line)
      .def_readwrite("tokens", &PromptOutput::tokens)
      .def(py::pickle(
          [](const PromptOutput& o) { return py::make_tuple(o.generations_line, o.provenance_line, o.tokens); },
          [](const py::tuple& t) {
            PromptOutput o;
            o.generations_line = t[0].cast<std::string>();
            o.provenance_line = t[1].cast<std::string>();
            o.tokens = t[2].cast<int64_t>();
            return o;
          }));

  py::class_<Shard>(m, "Shard", "Shard `index` of `count` (`--shard I/N`).")
      .def(py::init([](const std::string& s) { return Shard::parse(s, "shard"); }), py::arg("spec"))
      .def_readonly("index", &Shard::index)
      .def_readonly("count", &Shard::count);
  py::implicitly_convertible<std::string, Shard>();
  py::class_<Experiment, std::shared_ptr<Experiment>> exp(m, "Experiment", R"(An experiment file (docs/experiments.md).

>>> exp = breadth.Experiment.load("experiment.json")
>>> rows = exp.run("runs/first", progress=True)   # resumable: run again after an interruption
>>> pandas.DataFrame(rows)                        # one row per point

The file is checked when loaded: unknown keys, missing models or bad values raise
InvalidArgumentError naming the key, before any model is loaded.)");
  exp.def_static("load", [](const std::string& path) { return std::make_shared<Experiment>(Experiment::load(path)); },
                 py::arg("path"), "Reads, checks and resolves an experiment file.")
      .def_static(
          "parse",
          [](const std::string& text, const std::string& base_dir) {
            return std::make_shared<Experiment>(parse_experiment(text, base_dir));
          },
          py::arg("text"), py::arg("base_dir") = ".", "An experiment from JSON text; relative paths from base_dir.")
      .def_property_readonly("points", [](const Experiment& e) {
        std::vector<std::string> names;
        for (const auto& p : e.points()) names.push_back(p.name);
        return names;
      }, "Point names in run order: NAME, or NAME@VALUE per value of a sweep.")
      .def_property_readonly("prompt_ids", [](const Experiment& e) { return e.prompts().ids; })
      .def_property_readonly("prompts", [](const Experiment& e) { return e.prompts().prompts; })
      .def_property_readonly("skipped_prompt_lines", [](const Experiment& e) { return e.prompts().skipped; })
      .def_property_readonly("num_blocks", &Experiment::num_blocks)
      .def("block_range", &Experiment::block_range, py::arg("block"), "Prompt indices [first, last) of a block.")
      .def(
          "run",
          [](const Experiment& e, const std::string& out, const std::string& shard, bool evaluate,
             const py::object& progress) {
            auto slot = std::make_shared<ErrorSlot>();
            ProgressBar bar(progress, "experiment");
            RunOptions o;
            o.shard = Shard::parse(shard, "shard");
            o.evaluate = evaluate;
            o.on_progress = progress_fn(bar.object(), slot);
            return summary_rows(run_without_gil(slot, [&] { return e.run(out, o); }));
          },
          py::arg("out"), py::arg("shard") = "0/1", py::arg("evaluate") = true, py::arg("progress") = py::none(),
          "Generates (resuming), evaluates and reports into `out`; returns one dict per point (a point that "
          "failed has its message under 'error'). progress: True for a bar, or a callable(done, total, label).")
      .def("prepare", &Experiment::prepare, py::arg("out"), py::arg("shard") = Shard{},
           "Creates `out` and writes or checks its experiment.json.")
      .def(
          "pending_blocks",
          [](const Experiment& e, const std::string& out, size_t point, const std::string& shard) {
            return e.pending_blocks(out, point, Shard::parse(shard, "shard"));
          },
          py::arg("out"), py::arg("point"), py::arg("shard") = "0/1", "Blocks of point `point` not finished in `out`.")
      .def(
          "generate_block",
          [](const Experiment& e, size_t point, int64_t block, ModelCache& models) {
            py::gil_scoped_release nogil;
            return e.generate_block(point, block, models);
          },
          py::arg("point"), py::arg("block"), py::arg("models"), "Generates one block of one point.")
      .def("commit_block", &Experiment::commit_block, py::arg("out"), py::arg("point"), py::arg("block"),
           py::arg("outputs"), "Appends a block's missing prompts to the point's files (flushed per prompt).")
      .def(
          "evaluate",
          [](const Experiment& e, const std::string& out) {
            py::gil_scoped_release nogil;
            return e.evaluate(out);
          },
          py::arg("out"), "Evaluates the folder and writes scores, summaries and report.html.");
  py::class_<ExperimentSummary>(m, "ExperimentSummary", "What evaluate() wrote.")
      .def_property_readonly("rows", &summary_rows)
      .def_readonly("json", &ExperimentSummary::json)
      .def("failed", &ExperimentSummary::failed);
  py::class_<ModelCache, std::shared_ptr<ModelCache>>(m, "ModelCache",
                                                      "An experiment's checkpoints, each loaded once when first used.")
      .def(py::init([](const Experiment& e) { return std::make_shared<ModelCache>(e.spec()); }), py::arg("experiment"),
           py::keep_alive<1, 2>());
  m.def(
      "rebuild_report",
      [](const std::vector<std::string>& dirs, const std::string& out) {
        py::gil_scoped_release nogil;
        return summary_rows(rebuild_report(dirs, out));
      },
      py::arg("dirs"), py::arg("out") = "",
      "`breadth report`: rebuilds a run folder's summary and report, or merges shards into `out`.");
}

}  // namespace breadth::python
