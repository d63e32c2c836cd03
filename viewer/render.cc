#include "viewer/render.h"

#include <stdexcept>

#include <QApplication>
#include <QPainter>

namespace sagasim::viewer {

QImage render_view(TimelineView& view, int width, int height) {
  view.setAttribute(Qt::WA_DontShowOnScreen);
  view.resize(width, height);
  // Shown (off screen) so the chart lays itself out for this size, as it
  // would in a window, before it is painted.
  view.show();
  QApplication::processEvents();
  QImage image(width, height, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::white);
  QPainter painter(&image);
  view.render(&painter);
  return image;
}

QImage render_timeline(const TraceModel& model, const RenderOptions& options) {
  TimelineView view(model);
  view.set_filter(options.filter);
  if (!options.order.empty() && !view.select_order(options.order))
    throw std::invalid_argument("the trace has no order \"" + options.order + "\"");
  if (!options.order.empty() && options.zoom_to_order) view.zoom_to_order();
  return render_view(view, options.width, options.height);
}

}  // namespace sagasim::viewer
