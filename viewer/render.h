// Headless rendering: the timeline view drawn into an image, for
// `sagasim-viewer TRACE --png OUT.png`, CI artefacts, docs and the tests.
#pragma once

#include <string>

#include <QImage>

#include "viewer/timeline_view.h"
#include "viewer/trace_model.h"

namespace sagasim::viewer {

struct RenderOptions {
  int width = 1600;
  int height = 900;
  std::string order;          // highlight this order's saga path ("" for none)
  bool zoom_to_order = true;  // and zoom time to it, as choosing it in the window does
  ViewFilter filter;
};

// Draws exactly what the window's timeline shows at this size. Needs a
// QApplication (the offscreen platform will do). Throws std::invalid_argument
// for an order the trace does not have.
QImage render_timeline(const TraceModel& model, const RenderOptions& options);

// Lays out an existing view at width x height and draws it. The view keeps
// that size afterwards, so its pixel mapping (to_pixel, plot_rect) matches
// the image: the tests rely on that.
QImage render_view(TimelineView& view, int width, int height);

}  // namespace sagasim::viewer
