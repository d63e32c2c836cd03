#include "sagas/order/payment_service.h"

#include <fmt/format.h>

namespace sagasim::saga {

namespace {
// Both styles: events (choreography) and commands (orchestration) come on `orders`.
constexpr std::string_view kTopics[] = {kOrdersTopic};
}

std::span<const std::string_view> PaymentService::subscriptions() const { return kTopics; }

RecordPtr PaymentService::decode_record(std::string_view table, const nlohmann::json& j) const {
  if (table == kAccountsTable) return decode_record_as<Account>(table, j);
  if (table == kPaymentsTable) return decode_record_as<Payment>(table, j);
  return Service::decode_record(table, j);
}

void PaymentService::open_account(Transaction& txn, std::string customer_id, int64_t balance_cents) {
  txn.put(kAccountsTable, customer_id, Account{customer_id, balance_cents});
}

void PaymentService::handle(const Event& event, Context& ctx) {
  Transaction& txn = ctx.txn();
  const bool orchestrated = style_ == Style::Orchestration;
  if (orchestrated) {
    if (event.type == ChargePayment::kType) {
      const auto& cmd = event.payload_as<ChargePayment>();
      charge(cmd.order_id, cmd.customer_id, cmd.amount_cents, {}, ctx);
    } else if (event.type == RefundPayment::kType) {
      // The orchestrator asks only after hearing of the charge, so the
      // payment exists; a refund already made is not made again.
      const Payment* current = txn.get_as<Payment>(kPaymentsTable, event.payload_as<RefundPayment>().order_id);
      if (current) refund(*current, ctx);
    }
    return;
  }
  if (event.type == OrderCreated::kType) {
    const auto& oc = event.payload_as<OrderCreated>();
    charge(oc.order_id, oc.customer_id, oc.amount_cents, oc.lines, ctx);
  } else if (event.type == OrderCancelled::kType) {
    const auto& cancelled = event.payload_as<OrderCancelled>();
    const Payment* current = txn.get_as<Payment>(kPaymentsTable, cancelled.order_id);
    if (!current) {
      if (mutant_ == Mutant::PaymentNoTombstone) return;
      txn.put(kPaymentsTable, cancelled.order_id,
              Payment{cancelled.order_id, "", 0, PaymentStatus::Voided});
      return;
    }
    refund(*current, ctx);
  }
}

void PaymentService::charge(const std::string& order_id, const std::string& customer_id, int64_t amount_cents,
                            const OrderLines& lines, Context& ctx) {
  Transaction& txn = ctx.txn();
  if (mutant_ != Mutant::PaymentNoDedupe && txn.get(kPaymentsTable, order_id))
    return;  // charged, declined or voided already
  const Account* account = txn.get_as<Account>(kAccountsTable, customer_id);
  Payment p{order_id, customer_id, amount_cents, PaymentStatus::Declined};
  const bool enough = account && (mutant_ == Mutant::PaymentDeclinesExactBalance ? account->balance_cents > amount_cents
                                                                                 : account->balance_cents >= amount_cents);
  if (!enough) {
    std::string reason = account ? fmt::format("balance {} < amount {}", account->balance_cents, amount_cents)
                                 : "unknown customer " + customer_id;
    ctx.emit(kPaymentsTopic, order_id, PaymentFailed{order_id, std::move(reason)});
  } else {
    Account a = *account;
    a.balance_cents -= amount_cents;
    p.status = PaymentStatus::Charged;
    txn.put(kAccountsTable, a.customer_id, std::move(a));
    OrderLines passed_on = lines;
    if (mutant_ == Mutant::PaymentForwardsFirstLine && passed_on.size() > 1) passed_on = OrderLines({lines.front()});
    ctx.emit(kPaymentsTopic, order_id, PaymentProcessed{order_id, customer_id, amount_cents, std::move(passed_on)});
  }
  txn.put(kPaymentsTable, order_id, std::move(p));
}

void PaymentService::refund(const Payment& current, Context& ctx) {
  Transaction& txn = ctx.txn();
  const bool refundable =
      current.status == PaymentStatus::Charged ||
      (mutant_ == Mutant::RefundWithoutCharge && current.status == PaymentStatus::Declined) ||
      (mutant_ == Mutant::CompensationNotIdempotent && current.status == PaymentStatus::Refunded);
  if (!refundable) return;  // nothing taken, or refunded already
  Payment p = current;
  p.status = PaymentStatus::Refunded;
  const Account* account = txn.get_as<Account>(kAccountsTable, p.customer_id);
  Account a = account ? *account : Account{p.customer_id, 0};
  a.balance_cents += p.amount_cents;
  txn.put(kAccountsTable, a.customer_id, std::move(a));
  ctx.emit(kPaymentsTopic, p.order_id, PaymentRefunded{p.order_id, p.amount_cents});
  txn.put(kPaymentsTable, p.order_id, std::move(p));
}

}  // namespace sagasim::saga
