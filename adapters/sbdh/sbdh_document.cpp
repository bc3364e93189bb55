#include "adapters/sbdh/sbdh_document.hpp"

#include <charconv>
#include <utility>

#include "broker/xml/text_encoding.hpp"
#include "broker/xml/xml_builder.hpp"
#include "broker/xml/xml_document.hpp"
#include "adapters/sbdh/base64.hpp"
#include "broker/core/identifiers.hpp"

namespace sektorbro::adapters {
namespace {

constexpr std::string_view kRoot = "StandardBusinessDocument";
constexpr std::string_view kHeaderPath = "StandardBusinessDocument/StandardBusinessDocumentHeader";
constexpr std::string_view kPartyPrefix = "0088:";
constexpr std::string_view kAckScope = "EHMI-ReceiptAcknowledgement";

// The modelled scopes, in the order they are written.
struct KnownScope {
  std::string_view type;
  std::string SbdhDocument::*field;
};
const KnownScope kKnownScopes[] = {
    {"DOCUMENTID", &SbdhDocument::document_id},
    {"PROCESSID", &SbdhDocument::process_id},
    {"PATIENTID", &SbdhDocument::patient_id},
    {"SENDERID", &SbdhDocument::sender_sor},
    {"RECEIVERID", &SbdhDocument::receiver_sor},
    {"MESSAGEIDENTIFIER", &SbdhDocument::message_id},
    {"ORIGINALMESSAGEIDENTIFIER", &SbdhDocument::original_message_id},
    {"MESSAGEENVELOPEIDENTIFIER", &SbdhDocument::message_envelope_id},
    {"ORIGINALMESSAGEENVELOPEIDENTIFIER", &SbdhDocument::original_message_envelope_id},
    {"ORIGINALMESSAGESTANDARD", &SbdhDocument::original_message_standard},
    {"ORIGINALMESSAGEVERSION", &SbdhDocument::original_message_version},
    {"ORIGINALENVELOPEIDENTIFIER", &SbdhDocument::original_envelope_id},
    {"StatisticalInformation", &SbdhDocument::statistical_information},
};

class Reader {
 public:
  bool ok() const { return !error_.has_value(); }
  Error take_error() { return std::move(*error_); }
  void fail(std::string_view path, std::string_view what, Errc code = Errc::kInvalid) {
    if (error_) return;
    error_ = make_error(code, std::string(path) + ": " + std::string(what));
  }

  const XmlNode* child(const XmlNode* e, std::string_view name, std::string_view path,
                       bool required) {
    if (e == nullptr || !ok()) return nullptr;
    const XmlNode* c = e->child(kSbdhNamespace, name);
    if (c == nullptr && required) fail(std::string(path) + "/" + std::string(name), "missing");
    return c;
  }

  std::string text(const XmlNode* e, std::string_view name, std::string_view path, bool required) {
    const XmlNode* c = child(e, name, path, required);
    if (c == nullptr) return {};
    std::string v(trim_space(c->text));
    if (v.empty() && required) fail(std::string(path) + "/" + std::string(name), "empty");
    return v;
  }

  std::optional<TimePoint> time(const XmlNode* e, std::string_view name, std::string_view path,
                                bool required) {
    const std::string v = text(e, name, path, required);
    if (v.empty()) return std::nullopt;
    auto t = parse_timestamp(v);
    if (!t) fail(std::string(path) + "/" + std::string(name), "expected xs:dateTime with a zone");
    return t;
  }

  std::string party(const XmlNode* header, std::string_view name) {
    const std::string path = std::string(kHeaderPath) + "/" + std::string(name);
    const std::string id = text(child(header, name, kHeaderPath, true), "Identifier", path, true);
    if (!ok()) return {};
    if (!id.starts_with(kPartyPrefix) || !is_valid_gln(id.substr(kPartyPrefix.size()))) {
      fail(path + "/Identifier", "expected 0088:<GLN>");
      return {};
    }
    return id.substr(kPartyPrefix.size());
  }

  void receipt_scope(const XmlNode& scope, const std::string& path, const std::string& instance,
                     SbdhReceiptScope& out) {
    if (instance == "Request")
      out.kind = SbdhAckScope::kRequest;
    else if (instance == "Response")
      out.kind = SbdhAckScope::kResponse;
    else
      fail(path + "/InstanceIdentifier", "expected Request or Response");
    if (const XmlNode* c = child(&scope, "CorrelationInformation", path, false)) {
      const std::string cpath = path + "/CorrelationInformation";
      out.requesting_document_created = time(c, "RequestingDocumentCreationDateTime", cpath, false);
      out.requesting_document_id = text(c, "RequestingDocumentInstanceIdentifier", cpath, false);
      out.expected_response = time(c, "ExpectedResponseDateTime", cpath, false);
    }
    const XmlNode* service = child(&scope, "BusinessService", path, false);
    if (const XmlNode* t = child(service, "ServiceTransaction", path + "/BusinessService", false)) {
      if (const std::string* ms = t->attribute("TimeToAcknowledgeReceipt")) {
        long long v = 0;
        const auto [end, ec] = std::from_chars(ms->data(), ms->data() + ms->size(), v);
        if (ec != std::errc{} || end != ms->data() + ms->size() || v < 0)
          fail(path + "/BusinessService/ServiceTransaction",
               "TimeToAcknowledgeReceipt: expected milliseconds");
        else
          out.time_to_acknowledge = Duration{v};
      }
    }
  }

 private:
  std::optional<Error> error_;
};

void scope(XmlBuilder& w, std::string_view type, std::string_view instance,
           std::string_view identifier) {
  w.open("Scope");
  w.leaf("Type", type);
  w.leaf("InstanceIdentifier", instance);
  w.leaf("Identifier", identifier);
  w.close();
}

}  // namespace

Result<SbdhDocument> parse_sbdh(std::string_view bytes) {
  auto decoded = decode_document(bytes);
  if (!decoded) return decoded.error();
  auto tree = parse_xml_document(decoded->utf8);
  if (!tree) return tree.error();
  const XmlNode& root = *tree;
  if (root.name != kRoot || root.ns != kSbdhNamespace)
    return make_error(Errc::kInvalid, "root element is not an SBDH StandardBusinessDocument");

  SbdhDocument d;
  Reader r;
  const XmlNode* header = r.child(&root, "StandardBusinessDocumentHeader", kRoot, true);
  d.sender_gln = r.party(header, "Sender");
  d.receiver_gln = r.party(header, "Receiver");
  const std::string ipath = std::string(kHeaderPath) + "/DocumentIdentification";
  const XmlNode* ident = r.child(header, "DocumentIdentification", kHeaderPath, true);
  d.standard = r.text(ident, "Standard", ipath, true);
  d.type_version = r.text(ident, "TypeVersion", ipath, false);
  d.instance_id = r.text(ident, "InstanceIdentifier", ipath, true);
  d.type = r.text(ident, "Type", ipath, true);
  const std::string multiple = r.text(ident, "MultipleType", ipath, false);
  if (!multiple.empty() && multiple != "true" && multiple != "false")
    r.fail(ipath + "/MultipleType", "expected true or false");
  d.multiple_type = multiple == "true";
  if (auto t = r.time(ident, "CreationDateAndTime", ipath, true)) d.created = *t;

  if (const XmlNode* scopes = r.child(header, "BusinessScope", kHeaderPath, false)) {
    std::size_t n = 0;
    for (const XmlNode* s : scopes->all(kSbdhNamespace, "Scope")) {
      if (!r.ok()) break;
      const std::string path =
          std::string(kHeaderPath) + "/BusinessScope/Scope[" + std::to_string(++n) + "]";
      const std::string type = r.text(s, "Type", path, true);
      const std::string instance = r.text(s, "InstanceIdentifier", path, true);
      const std::string identifier = r.text(s, "Identifier", path, false);
      if (!r.ok()) break;
      bool known = false;
      for (const auto& k : kKnownScopes) {
        if (k.type != type) continue;
        known = true;
        if (!(d.*k.field).empty()) r.fail(path, "repeated scope " + std::string(k.type));
        d.*k.field = instance;
      }
      if (type == kAckScope) {
        known = true;
        if (d.receipt.kind != SbdhAckScope::kNone) r.fail(path, "repeated scope " + type);
        r.receipt_scope(*s, path, instance, d.receipt);
      }
      if (!known) d.other_scopes.push_back({type, instance, identifier});
    }
  }

  const XmlNode* content = root.child(kPeppolEnvelopeNamespace, "BinaryContent");
  if (content == nullptr) content = root.child(kSbdhNamespace, "BinaryContent");
  const std::string cpath = std::string(kRoot) + "/BinaryContent";
  if (r.ok() && content == nullptr) r.fail(cpath, "missing");
  if (r.ok()) {
    const std::string* mime = content->attribute("mimeType");
    if (mime == nullptr || mime->empty()) r.fail(cpath, "mimeType missing");
    if (mime != nullptr) d.mime_type = *mime;
    if (const std::string* enc = content->attribute("encoding")) d.content_encoding = *enc;
    auto payload = base64_decode(content->text);
    if (!payload)
      r.fail(cpath, "not valid base64", Errc::kMalformed);
    else
      d.payload = std::move(*payload);
  }
  if (!r.ok()) return r.take_error();
  return d;
}

std::string write_sbdh(const SbdhDocument& d) {
  XmlBuilder w(R"(<?xml version="1.0" encoding="UTF-8"?>)", true);
  w.open("StandardBusinessDocument", {{"xmlns", kSbdhNamespace}});
  w.open("StandardBusinessDocumentHeader");
  w.leaf("HeaderVersion", "1.0");
  const std::string sender = std::string(kPartyPrefix) + d.sender_gln;
  const std::string receiver = std::string(kPartyPrefix) + d.receiver_gln;
  w.open("Sender");
  w.leaf("Identifier", sender, {{"Authority", kPartyAuthority}});
  w.close();
  w.open("Receiver");
  w.leaf("Identifier", receiver, {{"Authority", kPartyAuthority}});
  w.close();
  w.open("DocumentIdentification");
  w.leaf("Standard", d.standard);
  if (!d.type_version.empty()) w.leaf("TypeVersion", d.type_version);
  w.leaf("InstanceIdentifier", d.instance_id);
  w.leaf("Type", d.type);
  w.leaf("MultipleType", d.multiple_type ? "true" : "false");
  w.leaf("CreationDateAndTime", format_timestamp(d.created));
  w.close();
  w.open("BusinessScope");
  for (const auto& k : kKnownScopes)
    if (!(d.*k.field).empty()) scope(w, k.type, d.*k.field, kMedcomScopeIdentifier);
  for (const auto& s : d.other_scopes) scope(w, s.type, s.instance_identifier, s.identifier);
  if (d.receipt.kind != SbdhAckScope::kNone) {
    const bool request = d.receipt.kind == SbdhAckScope::kRequest;
    w.open("Scope");
    w.leaf("Type", kAckScope);
    w.leaf("InstanceIdentifier", request ? "Request" : "Response");
    w.leaf("Identifier", kMedcomScopeIdentifier);
    const auto& c = d.receipt;
    if (c.requesting_document_created || !c.requesting_document_id.empty() || c.expected_response) {
      w.open("CorrelationInformation");
      if (c.requesting_document_created)
        w.leaf("RequestingDocumentCreationDateTime",
               format_timestamp(*c.requesting_document_created));
      if (!c.requesting_document_id.empty())
        w.leaf("RequestingDocumentInstanceIdentifier", c.requesting_document_id);
      if (c.expected_response)
        w.leaf("ExpectedResponseDateTime", format_timestamp(*c.expected_response));
      w.close();
    }
    w.open("BusinessService");
    w.leaf("BusinessServiceName", request ? "EHMI-ReceiptAcknowledgement-Request"
                                          : "EHMI-ReceiptAcknowledgement-Response");
    const std::string ms = std::to_string(c.time_to_acknowledge.count());
    w.empty("ServiceTransaction",
            {{"TypeOfServiceTransaction",
              request ? "RequestingServiceTransaction" : "RespondingServiceTransaction"},
             {"IsNonRepudiationRequired", "false"},
             {"IsAuthenticationRequired", "false"},
             {"IsNonRepudiationOfReceiptRequired", "false"},
             {"IsIntelligibleCheckRequired", "false"},
             {"IsApplicationErrorResponseRequested", "false"},
             {"TimeToAcknowledgeReceipt", ms},
             {"TimeToAcknowledgeAcceptance", "0"},
             {"TimeToPerform", "0"},
             {"Recurrence", "0"}});
    w.close();
    w.close();
  }
  w.close();
  w.close();
  w.leaf("BinaryContent", base64_encode(d.payload),
         {{"xmlns", kPeppolEnvelopeNamespace},
          {"mimeType", d.mime_type},
          {"encoding", d.content_encoding}});
  w.close();
  return w.finish();
}

}  // namespace sektorbro::adapters
