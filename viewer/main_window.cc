#include "viewer/main_window.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include "viewer/style.h"

namespace sagasim::viewer {

namespace {

QString qstr(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }

QIcon swatch(const QColor& c) {
  QPixmap pm(12, 12);
  pm.fill(c);
  return QIcon(pm);
}

constexpr const char* kHelp =
    "drag: zoom to a box · wheel: zoom time · right-click: zoom out · middle-drag or Ctrl+drag: pan · "
    "arrows: pan · +/-: zoom · Home: reset · click a step: its JSON and its order · Esc: clear";

}  // namespace

MainWindow::MainWindow() {
  setWindowTitle("sagasim-viewer");
  resize(1500, 900);
  splitter_ = new QSplitter(this);
  setCentralWidget(splitter_);
  build_controls();

  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Open trace…", QKeySequence::Open, this, &MainWindow::choose_file);
  file->addAction("&Export PNG…", QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::export_png);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, qApp, &QApplication::quit);
  QMenu* view = menuBar()->addMenu("&View");
  view->addAction("&Reset zoom", QKeySequence(Qt::Key_Home), this, [this] {
    if (view_) view_->reset_zoom();
  });
  statusBar()->showMessage(kHelp);
}

MainWindow::~MainWindow() {
  // The view refers to the model: it goes first.
  delete view_;
  view_ = nullptr;
}

void MainWindow::build_controls() {
  auto* panel = new QWidget();
  auto* layout = new QVBoxLayout(panel);

  auto* select = new QGroupBox("Show");
  auto* form = new QFormLayout(select);
  order_box_ = new QComboBox();
  order_box_->setEditable(true);
  order_box_->setInsertPolicy(QComboBox::NoInsert);
  order_box_->lineEdit()->setPlaceholderText("an order id, e.g. o-17");
  order_box_->setToolTip("Highlight one order's saga path (its steps and their causation chain); the rest is dimmed");
  form->addRow("Order", order_box_);
  only_order_ = new QCheckBox("only the selected order");
  form->addRow("", only_order_);
  type_box_ = new QComboBox();
  form->addRow("Event type", type_box_);
  service_box_ = new QComboBox();
  form->addRow("Service", service_box_);
  layout->addWidget(select);

  auto* kinds = new QGroupBox("Step kinds");
  auto* grid = new QGridLayout(kinds);
  for (int k = 0; k < kStepKindCount; ++k) {
    auto* box = new QCheckBox(qstr(to_string(static_cast<StepKind>(k))));
    box->setIcon(swatch(kind_style(static_cast<StepKind>(k)).color));
    box->setChecked(true);
    connect(box, &QCheckBox::toggled, this, &MainWindow::apply_filter);
    grid->addWidget(box, k / 3, k % 3);
    kind_boxes_[static_cast<size_t>(k)] = box;
  }
  layout->addWidget(kinds);

  auto* reset = new QPushButton("Reset zoom");
  connect(reset, &QPushButton::clicked, this, [this] {
    if (view_) view_->reset_zoom();
  });
  layout->addWidget(reset);

  layout->addWidget(new QLabel("Step (click a point)"));
  details_ = new QPlainTextEdit();
  details_->setReadOnly(true);
  details_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  details_->setLineWrapMode(QPlainTextEdit::NoWrap);
  layout->addWidget(details_, 1);
  summary_ = new QLabel();
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(summary_);

  connect(order_box_, &QComboBox::textActivated, this, [this](const QString& text) { select_order(text); });
  connect(only_order_, &QCheckBox::toggled, this, &MainWindow::apply_filter);
  connect(type_box_, &QComboBox::currentIndexChanged, this, &MainWindow::apply_filter);
  connect(service_box_, &QComboBox::currentIndexChanged, this, &MainWindow::apply_filter);

  panel->setMinimumWidth(320);
  splitter_->addWidget(panel);
}

void MainWindow::fill_controls() {
  const QSignalBlocker b1(order_box_), b2(type_box_), b3(service_box_);
  order_box_->clear();
  order_box_->addItem("");
  for (const std::string& o : model_->orders()) order_box_->addItem(QString::fromStdString(o));
  order_box_->completer()->setFilterMode(Qt::MatchContains);
  order_box_->completer()->setCompletionMode(QCompleter::PopupCompletion);
  type_box_->clear();
  type_box_->addItem("(all)");
  for (const std::string& t : model_->event_types()) type_box_->addItem(QString::fromStdString(t));
  service_box_->clear();
  service_box_->addItem("(all)");
  for (const std::string& s : model_->services()) service_box_->addItem(QString::fromStdString(s));
}

void MainWindow::apply_filter() {
  if (!view_) return;
  ViewFilter f;
  for (size_t k = 0; k < kind_boxes_.size(); ++k) f.kinds[k] = kind_boxes_[k]->isChecked();
  f.service = service_box_->currentIndex() - 1;  // item 0 is "(all)"
  f.type = type_box_->currentIndex() > 0 ? model_->find(type_box_->currentText().toStdString()) : kNoStr;
  f.only_order = only_order_->isChecked();
  view_->set_filter(f);
}

bool MainWindow::open(const QString& path) {
  QElapsedTimer t;
  t.start();
  try {
    auto model = std::make_unique<TraceModel>(TraceModel::load(path.toStdString()));
    set_model(std::move(model), static_cast<double>(t.nsecsElapsed()) / 1e6);
    return true;
  } catch (const TraceError& e) {
    QMessageBox::critical(this, "Cannot read the trace", QString::fromStdString(e.what()));
  } catch (const std::exception& e) {  // out of memory and the like: still a message, not a crash
    QMessageBox::critical(this, "Cannot read the trace", path + ": " + QString::fromStdString(e.what()));
  }
  return false;
}

void MainWindow::set_model(std::unique_ptr<TraceModel> model, double load_ms) {
  // New view for the new model, then the old view, then the old model.
  auto* view = new TimelineView(*model);
  if (view_) {
    splitter_->replaceWidget(0, view);
    delete view_;
  } else {
    splitter_->insertWidget(0, view);
  }
  view_ = view;
  model_ = std::move(model);
  splitter_->setStretchFactor(0, 1);
  splitter_->setStretchFactor(1, 0);
  splitter_->setSizes({width() - 360, 360});
  fill_controls();
  apply_filter();
  details_->clear();
  only_order_->setChecked(false);

  connect(view_, &TimelineView::step_clicked, this, &MainWindow::show_step);
  connect(view_, &TimelineView::order_selected, this, [this](const QString& order) {
    const QSignalBlocker block(order_box_);
    order_box_->setCurrentText(order);
    apply_filter();
  });

  const TraceHeader& h = model_->header();
  const QLocale en(QLocale::English);
  QString summary = QString("<b>%1</b> · seed %2%3 · sagasim %4<br>%5 steps · %6 lanes · %7 orders · %8 faults · "
                            "%9 ms virtual<br>loaded in %10 ms")
                        .arg(QString::fromStdString(h.scenario).toHtmlEscaped())
                        .arg(h.seed)
                        .arg(h.swarm ? " (swarm)" : "")
                        .arg(QString::fromStdString(h.sagasim).toHtmlEscaped())
                        .arg(en.toString(static_cast<qulonglong>(model_->steps().size())))
                        .arg(model_->lanes().size())
                        .arg(model_->orders().size())
                        .arg(model_->faults().size())
                        .arg(en.toString(static_cast<double>(model_->end_us() - model_->begin_us()) / 1000.0, 'f', 0))
                        .arg(load_ms, 0, 'f', 0);
  for (const std::string& w : model_->warnings())
    summary += QString("<br><span style='color:#b35900'>%1</span>").arg(QString::fromStdString(w).toHtmlEscaped());
  summary_->setText(summary);
  setWindowTitle(QString("sagasim-viewer — %1").arg(QFileInfo(QString::fromStdString(model_->name())).fileName()));
}

bool MainWindow::select_order(const QString& text, bool whole) {
  if (!view_) return false;
  const QString order = text.trimmed();
  const bool ok = view_->select_order(order.toStdString());
  if (!ok) {
    statusBar()->showMessage(QString("The trace has no order \"%1\"").arg(order), 5000);
  } else if (!order.isEmpty() && !whole) {
    view_->zoom_to_order();
  }
  const QSignalBlocker block(order_box_);
  order_box_->setCurrentText(ok ? order : QString());
  apply_filter();
  return ok;
}

void MainWindow::show_step(quint32 step) {
  const std::string_view raw = model_->raw_json(step);
  QString text = QString("line %1 of %2\n\n").arg(model_->steps()[step].line).arg(QString::fromStdString(model_->name()));
  // ordered_json: the fields in the file's own order (step, t_us, kind, ...), not sorted.
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(raw, nullptr, false);  // parsed once already; no throw
  text += j.is_discarded() ? qstr(raw)
                           : QString::fromStdString(j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  details_->setPlainText(text);
}

void MainWindow::choose_file() {
  const QString path = QFileDialog::getOpenFileName(this, "Open a sagasim trace", QString(), "Traces (*.jsonl *.ndjson *.json);;All files (*)");
  if (!path.isEmpty()) open(path);
}

void MainWindow::export_png() {
  if (!view_) return;
  const QString path = QFileDialog::getSaveFileName(this, "Export the timeline as PNG", "timeline.png", "PNG (*.png)");
  if (path.isEmpty()) return;
  if (!view_->grab().save(path, "PNG")) QMessageBox::warning(this, "Export failed", "Could not write " + path);
}

}  // namespace sagasim::viewer
