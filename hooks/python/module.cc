// _conceptwatch: the C++ Publisher for PyTorch jobs, so Python and C++ jobs
// speak one wire format, and the CLI's query client (query_client.h). The
// friendly API is conceptwatch/__init__.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "hooks/publisher.h"
#include "hooks/python/query_client.h"
#include "hooks/python/without_gil.h"

namespace py = pybind11;

namespace {

cw::DType dtype_of(const py::array& array) {
  const auto kind = array.dtype().kind();
  const auto size = array.dtype().itemsize();
  if (kind == 'f' && size == 4) return cw::DType::kF32;
  if (kind == 'f' && size == 2) return cw::DType::kF16;
  // numpy has no bfloat16: the Python side sends bf16 as uint16 bit patterns.
  if ((kind == 'u' || kind == 'i') && size == 2) return cw::DType::kBF16;
  throw py::type_error("activations must be float32, float16, or bfloat16 bits as uint16");
}

}  // namespace

PYBIND11_MODULE(_conceptwatch, m) {
  m.doc() = "conceptwatch publisher and query client (C++), see conceptwatch.attach and conceptwatch.connect";
  cw::add_query_client(m);

  py::class_<cw::Publisher>(m, "Publisher")
      .def(py::init([](const std::string& run, const std::vector<std::pair<std::string, uint32_t>>& taps,
                       const std::vector<uint32_t>& probe_tokens, uint32_t sequence_length,
                       const std::vector<std::string>& vocabulary, const std::string& dtype,
                       const std::vector<std::tuple<std::string, std::vector<uint32_t>, uint32_t, std::string>>& tasks,
                       const std::string& endpoint, uint64_t max_queue_bytes, bool block, double block_timeout_s,
                       double ack_timeout_s, double close_timeout_s, const std::string& server_key,
                       const std::string& secret_key) {
             cw::RunDescription description;
             description.run = run;
             for (const auto& [name, d_model] : taps) description.taps.push_back({name, d_model});
             description.probe.token_ids = probe_tokens;
             description.probe.sequence_length = sequence_length;
             description.probe.vocabulary = vocabulary;
             auto parsed = cw::parse_dtype(dtype);
             if (!parsed) throw py::value_error("dtype must be f32, f16 or bf16");
             description.dtype = *parsed;
             for (const auto& [name, ids, length, metric] : tasks) description.tasks.push_back({name, ids, length, metric});
             cw::PublisherOptions options;
             options.endpoint = endpoint;
             options.max_queue_bytes = max_queue_bytes;
             options.when_full = block ? cw::WhenFull::kBlock : cw::WhenFull::kDropOldest;
             options.block_timeout = std::chrono::milliseconds(int64_t(block_timeout_s * 1000));
             options.ack_timeout = std::chrono::milliseconds(int64_t(ack_timeout_s * 1000));
             options.close_timeout = std::chrono::milliseconds(int64_t(close_timeout_s * 1000));
             options.keys = {server_key, secret_key};
             return std::make_unique<cw::Publisher>(std::move(description), options);
           }),
           py::arg("run"), py::arg("taps"), py::arg("probe_tokens"), py::arg("sequence_length"),
           py::arg("vocabulary") = std::vector<std::string>{}, py::arg("dtype") = "f32",
           py::arg("tasks") = std::vector<std::tuple<std::string, std::vector<uint32_t>, uint32_t, std::string>>{},
           py::arg("endpoint") = std::string(cw::kDefaultIngestEndpoint), py::arg("max_queue_bytes") = uint64_t(1) << 30,
           py::arg("block") = false, py::arg("block_timeout_s") = 2.0, py::arg("ack_timeout_s") = 10.0,
           py::arg("close_timeout_s") = 5.0, py::arg("server_key") = std::string(), py::arg("secret_key") = std::string())
      .def(
          "publish",
          [](cw::Publisher& publisher, const std::string& tap, uint64_t step, py::array activations, uint64_t tokens_seen,
             const std::map<std::string, double>& scalars, const std::string& kind, const std::string& task) {
            if (activations.ndim() != 2) throw py::value_error("activations must be 2-D [n_tokens, d_model]");
            py::array contiguous = py::array::ensure(activations, py::array::c_style);
            cw::SnapshotMeta meta;
            meta.key.run = publisher.run().run;
            meta.key.tap = tap;
            meta.key.step = step;
            meta.key.kind = kind == "probe"             ? cw::ArrayKind::kProbeActivations
                            : kind == "task-activations" ? cw::ArrayKind::kTaskActivations
                            : kind == "task-gradient"    ? cw::ArrayKind::kTaskGradient
                                                         : throw py::value_error("kind: probe, task-activations or task-gradient");
            meta.key.task = task;
            meta.tokens_seen = tokens_seen;
            for (const auto& [name, value] : scalars) meta.scalars.emplace_back(name, value);
            meta.n_tokens = uint32_t(contiguous.shape(0));
            meta.d_model = uint32_t(contiguous.shape(1));
            meta.dtype = dtype_of(contiguous);
            try {
              return publisher.publish(meta, contiguous.data());
            } catch (const std::invalid_argument& e) {
              throw py::value_error(e.what());
            }
          },
          py::arg("tap"), py::arg("step"), py::arg("activations"), py::arg("tokens_seen") = 0,
          py::arg("scalars") = std::map<std::string, double>{}, py::arg("kind") = "probe", py::arg("task") = "")
      .def("flush", [](cw::Publisher& publisher, double timeout_s) {
             return cw::without_gil(
                 [&] { return publisher.flush(std::chrono::milliseconds(int64_t(timeout_s * 1000))); });
           }, py::arg("timeout_s") = 30.0)
      .def("stats", [](const cw::Publisher& publisher) {
        const cw::PublisherStats s = publisher.stats();
        return py::dict(py::arg("published") = s.published, py::arg("acked") = s.acked,
                        py::arg("duplicates") = s.duplicates, py::arg("dropped") = s.dropped,
                        py::arg("rejected") = s.rejected, py::arg("resent") = s.resent, py::arg("queued") = s.queued,
                        py::arg("queued_bytes") = s.queued_bytes, py::arg("max_publish_ns") = s.max_publish_ns,
                        py::arg("hello_acked") = s.hello_acked, py::arg("store_unavailable") = s.store_unavailable,
                        py::arg("retry_wait_ms") = s.retry_wait_ms, py::arg("last_error") = s.last_error);
      });
}
