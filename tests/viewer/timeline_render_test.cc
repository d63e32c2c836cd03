// The timeline rendered offscreen from a known trace, and checked for being a
// meaningful picture: its size, a band with points for every lane the model
// has, the colours each step kind should put there, fault shading where the
// faults were, and that highlighting an order or filtering changes pixels.
#include <cmath>
#include <cstdlib>

#include <QApplication>
#include <QMouseEvent>

#include <gtest/gtest.h>

#include "viewer/render.h"
#include "viewer/style.h"
#include "viewer/timeline_view.h"
#include "viewer/trace_model.h"

namespace sagasim::viewer {
namespace {

constexpr int kW = 1200, kH = 700;

const TraceModel& small() {
  static const TraceModel m = TraceModel::load(std::string(SAGASIM_SOURCE_DIR) + "/tests/viewer/data/small.trace.ndjson");
  return m;
}

uint32_t idx(const TraceModel& m, uint64_t step) {
  for (size_t i = 0; i < m.steps().size(); ++i)
    if (m.steps()[i].step == step) return static_cast<uint32_t>(i);
  ADD_FAILURE() << "no step " << step;
  return 0;
}

bool near(QRgb p, const QColor& c, int tol = 6) {
  return std::abs(qRed(p) - c.red()) <= tol && std::abs(qGreen(p) - c.green()) <= tol && std::abs(qBlue(p) - c.blue()) <= tol;
}

// Pixels of colour `c` inside `r`.
int count(const QImage& img, const QRect& r, const QColor& c, int tol = 6) {
  int n = 0;
  const QRect box = r.intersected(img.rect());
  for (int y = box.top(); y <= box.bottom(); ++y)
    for (int x = box.left(); x <= box.right(); ++x) n += near(img.pixel(x, y), c, tol) ? 1 : 0;
  return n;
}

// Pixels that are markedly coloured (not white, grey or black): points, shading.
bool colourful(QRgb p) {
  const int mx = std::max({qRed(p), qGreen(p), qBlue(p)}), mn = std::min({qRed(p), qGreen(p), qBlue(p)});
  return mx - mn > 40;
}

struct Rendered {
  std::unique_ptr<TimelineView> view;
  QImage image;
  QRect plot;
};

Rendered render(const std::string& order = "", ViewFilter filter = ViewFilter()) {
  Rendered r;
  r.view = std::make_unique<TimelineView>(small());
  r.view->set_filter(filter);
  if (!order.empty()) {
    EXPECT_TRUE(r.view->select_order(order));
  }
  r.image = render_view(*r.view, kW, kH);
  r.plot = r.view->plot_rect().toRect().adjusted(1, 1, -1, -1);
  return r;
}

TEST(TimelineRender, ImageHasTheRequestedSize) {
  RenderOptions o;
  o.width = 900;
  o.height = 500;
  const QImage img = render_timeline(small(), o);
  EXPECT_EQ(img.width(), 900);
  EXPECT_EQ(img.height(), 500);
  EXPECT_THROW(render_timeline(small(), RenderOptions{900, 500, "o-999", true, ViewFilter()}), std::invalid_argument);
}

TEST(TimelineRender, EveryLaneOfTheModelHasItsBandWithPoints) {
  const Rendered r = render();
  ASSERT_EQ(small().lanes().size(), 20u);
  EXPECT_GT(r.plot.width(), kW / 2);
  EXPECT_GT(r.plot.height(), kH / 2);
  for (size_t l = 0; l < small().lanes().size(); ++l) {
    const int top = static_cast<int>(r.view->to_pixel(0, static_cast<double>(l) - 0.45).y());
    const int bottom = static_cast<int>(r.view->to_pixel(0, static_cast<double>(l) + 0.45).y());
    ASSERT_LT(top, bottom);
    int coloured = 0;
    for (int y = top; y <= bottom; ++y)
      for (int x = r.plot.left(); x <= r.plot.right(); ++x) coloured += colourful(r.image.pixel(x, y)) ? 1 : 0;
    EXPECT_GT(coloured, 10) << "lane " << small().lanes()[l].name << " looks empty";
  }
}

TEST(TimelineRender, EachStepKindShowsInItsColour) {
  const Rendered r = render();
  for (StepKind k : {StepKind::Publish, StepKind::Deliver, StepKind::Handle, StepKind::State, StepKind::Commit,
                     StepKind::Rebalance, StepKind::Fault, StepKind::Lifecycle}) {
    EXPECT_GT(count(r.image, r.plot, kind_style(k).color), 3) << to_string(k) << " is missing from the picture";
  }
  // The trace has no timer steps: no timer colour in the plot (it is in the legend).
  EXPECT_EQ(count(r.image, r.plot, kind_style(StepKind::Timer).color, 3), 0);
}

TEST(TimelineRender, PointsAreWhereTheStepsAre) {
  const Rendered r = render();
  for (uint64_t step : {21, 33, 137}) {  // a publish, two handlings
    const Step& s = small().steps()[idx(small(), step)];
    const QPoint c = r.view->to_pixel(static_cast<double>(s.t_us) / 1000.0, s.lane + kind_style(s.kind).lane_offset).toPoint();
    EXPECT_GT(count(r.image, QRect(c - QPoint(2, 2), QSize(5, 5)), kind_style(s.kind).color, 8), 0) << "step " << step;
  }
}

TEST(TimelineRender, FaultIntervalsAreShaded) {
  const Rendered r = render();
  // Inside the stall of inventory-1 (150 to 450 ms), between its steps: shade.
  const int lane = small().lane_index("inventory-1");
  const QPoint p = r.view->to_pixel(300, lane + 0.2).toPoint();
  const QRgb px = r.image.pixel(p);
  EXPECT_GT(qRed(px), qGreen(px) + 15) << "no fault shade at the stall";
  // Outside any fault on the same lane, no shade.
  const QRgb clear = r.image.pixel(r.view->to_pixel(100, lane + 0.2).toPoint());
  EXPECT_LT(std::abs(qRed(clear) - qGreen(clear)), 10);
}

TEST(TimelineRender, HighlightingAnOrderChangesThePicture) {
  const Rendered plain = render();
  const Rendered lit = render("o-3");
  ASSERT_EQ(plain.image.size(), lit.image.size());
  int changed = 0;
  for (int y = plain.plot.top(); y <= plain.plot.bottom(); ++y)
    for (int x = plain.plot.left(); x <= plain.plot.right(); ++x) changed += plain.image.pixel(x, y) != lit.image.pixel(x, y);
  EXPECT_GT(changed, 500);
  // The rest is dimmed: fewer full-colour handlings and deliveries than before...
  const QColor handle = kind_style(StepKind::Handle).color;
  EXPECT_LT(count(lit.image, lit.plot, handle), count(plain.image, plain.plot, handle));
  // ...but the order's own handling is still drawn in full colour.
  const Step& s = small().steps()[idx(small(), 33)];
  const QPoint c = lit.view->to_pixel(static_cast<double>(s.t_us) / 1000.0, s.lane + kind_style(s.kind).lane_offset).toPoint();
  EXPECT_GT(count(lit.image, QRect(c - QPoint(2, 2), QSize(5, 5)), handle, 8), 0);
  EXPECT_EQ(lit.view->selected_order(), "o-3");
  EXPECT_FALSE(lit.view->path_links().empty());
}

TEST(TimelineRender, FiltersHideSteps) {
  ViewFilter no_publish;
  no_publish.kinds[static_cast<size_t>(StepKind::Publish)] = false;
  const Rendered r = render("", no_publish);
  EXPECT_EQ(count(r.image, r.plot, kind_style(StepKind::Publish).color, 3), 0);
  EXPECT_GT(count(r.image, r.plot, kind_style(StepKind::Handle).color), 3);

  ViewFilter payment_only;
  payment_only.service = 1;  // services(): order, payment, ...
  ASSERT_EQ(small().services()[1], "payment");
  const Rendered p = render("", payment_only);
  const int order_lane = small().lane_index("order-1");
  const int payment_lane = small().lane_index("payment-2");
  auto band = [&](const Rendered& x, int lane) {
    const int top = static_cast<int>(x.view->to_pixel(0, lane - 0.45).y());
    const int bottom = static_cast<int>(x.view->to_pixel(0, lane + 0.45).y());
    return QRect(x.plot.left(), top, x.plot.width(), bottom - top);
  };
  EXPECT_EQ(count(p.image, band(p, order_lane), kind_style(StepKind::Handle).color, 3), 0);
  EXPECT_GT(count(p.image, band(p, payment_lane), kind_style(StepKind::Handle).color), 3);

  ViewFilter only;
  only.only_order = true;
  const Rendered o = render("o-3", only);
  EXPECT_TRUE(o.view->visible(idx(small(), 33)));
  EXPECT_FALSE(o.view->visible(idx(small(), 17)));  // a step of another order
}

TEST(TimelineRender, ClickingAStepSelectsItAndItsOrder) {
  Rendered r = render();
  std::vector<quint32> clicked;
  std::vector<QString> ordered;
  QObject::connect(r.view.get(), &TimelineView::step_clicked, [&](quint32 i) { clicked.push_back(i); });
  QObject::connect(r.view.get(), &TimelineView::order_selected, [&](const QString& o) { ordered.push_back(o); });
  const uint32_t target = idx(small(), 137);  // order-1 handles ItemsReserved of o-3
  const Step& s = small().steps()[target];
  const QPointF at = r.view->to_pixel(static_cast<double>(s.t_us) / 1000.0, s.lane + kind_style(s.kind).lane_offset);
  ASSERT_TRUE(r.view->step_at(at).has_value());
  EXPECT_EQ(small().steps()[*r.view->step_at(at)].order, s.order);
  QMouseEvent press(QEvent::MouseButtonPress, at, r.view->viewport()->mapToGlobal(at), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QMouseEvent release(QEvent::MouseButtonRelease, at, r.view->viewport()->mapToGlobal(at), Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(r.view->viewport(), &press);
  QApplication::sendEvent(r.view->viewport(), &release);
  ASSERT_EQ(clicked.size(), 1u);
  EXPECT_EQ(small().steps()[clicked[0]].order, s.order);
  ASSERT_EQ(ordered.size(), 1u);
  EXPECT_EQ(ordered[0], "o-3");
  EXPECT_EQ(r.view->selected_order(), "o-3");
}

TEST(TimelineRender, HoverTellsTheStepOrTheFault) {
  Rendered r = render();
  const QString tip = r.view->tooltip_for(idx(small(), 33));
  EXPECT_TRUE(tip.startsWith("step 33 · handle · payment-2")) << tip.toStdString();
  EXPECT_TRUE(tip.contains("OrderCreated e-6 (caused by e-3)")) << tip.toStdString();
  EXPECT_TRUE(tip.contains("order o-3")) << tip.toStdString();
  const int lane = small().lane_index("inventory-1");
  const QString fault = r.view->fault_tooltip_at(r.view->to_pixel(300, lane + 0.2));
  EXPECT_TRUE(fault.startsWith("fault stall (inventory-1): 150.0 ms to 450.0 ms")) << fault.toStdString();
  EXPECT_TRUE(r.view->fault_tooltip_at(r.view->to_pixel(100, lane + 0.2)).isEmpty());
}

TEST(TimelineRender, ZoomAndPanMoveTheTimeAxis) {
  Rendered r = render();
  const QPointF before = r.view->to_pixel(300, 0);
  r.view->zoom_time(0.5, 300);
  const QPointF zoomed = r.view->to_pixel(300, 0);
  EXPECT_NEAR(zoomed.x(), before.x(), 1.0);  // zooming about 300 ms keeps it in place
  EXPECT_GT(r.view->to_pixel(400, 0).x() - zoomed.x(), (r.view->to_pixel(400, 0).x() - before.x()) * 0.9);
  r.view->pan(-100, 0);
  EXPECT_NEAR(r.view->to_pixel(300, 0).x(), zoomed.x() - 100, 1.5);
  r.view->reset_zoom();
  EXPECT_NEAR(r.view->to_pixel(300, 0).x(), before.x(), 1.0);
}

}  // namespace
}  // namespace sagasim::viewer

int main(int argc, char** argv) {
  // Offscreen unless told otherwise: the tests need no display.
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
