#include "broker/delivery/receipt_rule.hpp"

namespace sektorbro {

bool receiver_owes_receipt(const ReceiptFacts& m) {
  return !is_receipt(m.first_letter) && !m.written_by_broker;
}

bool watch_receipt_after_delivery(const ReceiptFacts& m, bool receipt_came_with_delivery) {
  return receiver_owes_receipt(m) && m.receipt_requested && !receipt_came_with_delivery;
}

}  // namespace sektorbro
