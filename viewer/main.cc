// sagasim-viewer: the timeline of a sagasim trace.
//
//   sagasim-viewer [TRACE.jsonl]                      the window
//   sagasim-viewer TRACE.jsonl --png OUT.png [--order ID] [--width W --height H]
//                                                     headless: the same view as a PNG
//
// Exit codes: 0 done, 2 bad input (a bad trace names file:line on stderr; a
// bad argument; an unknown order; an unwritable output).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QPixmap>
#include <QTimer>

#include "viewer/main_window.h"
#include "viewer/render.h"
#include "viewer/trace_model.h"

namespace {

constexpr int kExitBadInput = 2;

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], flag) == 0) return true;
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0 && argv[i][std::strlen(flag)] == '=') return true;
  }
  return false;
}

std::optional<int> parse_size(const QString& text, const char* what) {
  bool ok = false;
  const int v = text.toInt(&ok);
  if (!ok || v < 200 || v > 10000) {
    std::cerr << "sagasim-viewer: --" << what << " " << text.toStdString() << ": give a whole number of pixels in [200, 10000]\n";
    return std::nullopt;
  }
  return v;
}

// Headless runs print only what matters: Qt's notes about the offscreen
// platform (no XDG_RUNTIME_DIR, no window manager hints) are noise there.
void quiet_headless_messages(QtMsgType type, const QMessageLogContext&, const QString& msg) {
  if (type == QtDebugMsg || type == QtInfoMsg) return;
  if (msg.startsWith("QStandardPaths: XDG_RUNTIME_DIR") || msg.startsWith("This plugin does not support")) return;
  std::fprintf(stderr, "sagasim-viewer: Qt: %s\n", msg.toLocal8Bit().constData());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sagasim::viewer;
  QElapsedTimer since_start;
  since_start.start();
  // Headless runs need no display: the offscreen platform, unless the caller
  // chose one. So does asking for help (Qt needs a platform before parsing).
  const bool headless = has_flag(argc, argv, "--png") || has_flag(argc, argv, "--smoke") ||
                        has_flag(argc, argv, "--window-png");
  const bool just_asking = has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h") ||
                           has_flag(argc, argv, "--version") || has_flag(argc, argv, "-v");
  if ((headless || just_asking) && !std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  if (headless || just_asking) qInstallMessageHandler(quiet_headless_messages);
  if (!std::getenv("QT_QPA_PLATFORM") && !std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY")) {
    // Qt would abort with its own message; say what to do instead.
    std::cerr << "sagasim-viewer: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                 "for an image without one: sagasim-viewer TRACE.jsonl --png OUT.png\n";
    return kExitBadInput;
  }

  QApplication app(argc, argv);
  QApplication::setApplicationName("sagasim-viewer");
  QApplication::setApplicationVersion("0.1.0");

  QCommandLineParser cli;
  cli.setApplicationDescription(
      "The timeline of a sagasim trace: one lane per service instance and per topic-partition, every step a point "
      "coloured by kind, fault intervals shaded, an order's saga path highlighted.");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument("trace", "A trace written by `sagasim run --trace FILE` (JSON Lines)", "[TRACE.jsonl]");
  const QCommandLineOption png(QStringLiteral("png"), "Render the timeline to this PNG file, offscreen, and exit", "OUT.png");
  const QCommandLineOption order(QStringLiteral("order"), "Highlight this order's saga path (e.g. o-17)", "ID");
  const QCommandLineOption whole(QStringLiteral("whole"), "With --order: keep the whole time range instead of zooming to the order");
  const QCommandLineOption width(QStringLiteral("width"), "Image or window width in pixels (default 1600)", "W", "1600");
  const QCommandLineOption height(QStringLiteral("height"), "Image or window height in pixels (default 900)", "H", "900");
  const QCommandLineOption timing(QStringLiteral("timing"), "Print load and paint times to stderr");
  const QCommandLineOption smoke(QStringLiteral("smoke"), "Open the window offscreen, paint it once and exit (for tests and timing)");
  const QCommandLineOption window_png(QStringLiteral("window-png"),
                                      "Open the window offscreen, save a screenshot of all of it (side panel included) and exit",
                                      "OUT.png");
  cli.addOptions({png, order, whole, width, height, timing, smoke, window_png});
  if (!cli.parse(QApplication::arguments())) {
    std::cerr << "sagasim-viewer: " << cli.errorText().toStdString() << "\n";
    return kExitBadInput;
  }
  if (cli.isSet("help")) cli.showHelp(0);
  if (cli.isSet("version")) cli.showVersion();

  const QStringList args = cli.positionalArguments();
  if (args.size() > 1) {
    std::cerr << "sagasim-viewer: one trace at a time (got " << args.size() << ")\n";
    return kExitBadInput;
  }
  const auto w = parse_size(cli.value(width), "width");
  const auto h = parse_size(cli.value(height), "height");
  if (!w || !h) return kExitBadInput;

  if (cli.isSet(png)) {
    if (args.isEmpty()) {
      std::cerr << "sagasim-viewer: --png needs a trace: sagasim-viewer TRACE.jsonl --png OUT.png\n";
      return kExitBadInput;
    }
    try {
      QElapsedTimer t;
      t.start();
      const TraceModel model = TraceModel::load(args[0].toStdString());
      const double load_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
      for (const std::string& warning : model.warnings()) std::cerr << "sagasim-viewer: " << model.name() << ": " << warning << "\n";
      t.restart();
      RenderOptions options;
      options.width = *w;
      options.height = *h;
      options.order = cli.value(order).toStdString();
      options.zoom_to_order = !cli.isSet(whole);
      const QImage image = render_timeline(model, options);
      const double render_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
      if (!image.save(cli.value(png), "PNG")) {
        std::cerr << "sagasim-viewer: " << cli.value(png).toStdString() << ": cannot write the PNG\n";
        return kExitBadInput;
      }
      if (cli.isSet(timing))
        std::fprintf(stderr, "timing: %zu steps, %zu lanes: load %.0f ms, render %.0f ms, total %.0f ms\n",
                     model.steps().size(), model.lanes().size(), load_ms, render_ms,
                     static_cast<double>(since_start.nsecsElapsed()) / 1e6);
      return 0;
    } catch (const TraceError& e) {
      std::cerr << "sagasim-viewer: " << e.what() << "\n";
      return kExitBadInput;
    } catch (const std::invalid_argument& e) {
      std::cerr << "sagasim-viewer: " << e.what() << "\n";
      return kExitBadInput;
    }
  }

  MainWindow window;
  window.resize(*w, *h);
  if (!args.isEmpty()) {
    QElapsedTimer t;
    t.start();
    try {
      auto model = std::make_unique<TraceModel>(TraceModel::load(args[0].toStdString()));
      for (const std::string& warning : model->warnings()) std::cerr << "sagasim-viewer: " << model->name() << ": " << warning << "\n";
      window.set_model(std::move(model), static_cast<double>(t.nsecsElapsed()) / 1e6);
      if (cli.isSet(order) && !window.select_order(cli.value(order), cli.isSet(whole)))
        std::cerr << "sagasim-viewer: the trace has no order \"" << cli.value(order).toStdString() << "\"\n";
    } catch (const std::exception& e) {  // a TraceError names file:line; anything else is still a message
      std::cerr << "sagasim-viewer: " << e.what() << "\n";
      if (cli.isSet(smoke) || cli.isSet(window_png)) return kExitBadInput;  // no one to read a dialog
      window.show();
      QMessageBox::critical(&window, "Cannot read the trace", QString::fromStdString(e.what()));
    }
  }
  window.show();
  if (cli.isSet(smoke) || cli.isSet(timing) || cli.isSet(window_png)) {
    // Report once the first frame, timeline included, has been painted.
    QTimer::singleShot(0, &window, [&] {
      // A full frame of the window, timeline included, as the screen would get it.
      QApplication::processEvents();
      const QPixmap frame = window.grab();
      if (window.view() && cli.isSet(timing)) {
        const PaintStats s = window.view()->last_paint();
        std::fprintf(stderr, "timing: %dx%d window painted %.0f ms after start (timeline paint %.1f ms, %zu markers for %zu steps)\n",
                     frame.width(), frame.height(), static_cast<double>(since_start.nsecsElapsed()) / 1e6, s.ms, s.markers,
                     s.considered);
      }
      if (cli.isSet(window_png) && !frame.save(cli.value(window_png), "PNG")) {
        std::cerr << "sagasim-viewer: " << cli.value(window_png).toStdString() << ": cannot write the PNG\n";
        QApplication::exit(kExitBadInput);
        return;
      }
      if (cli.isSet(smoke) || cli.isSet(window_png)) QApplication::quit();
    });
  }
  return QApplication::exec();
}
