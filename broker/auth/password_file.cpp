// Placeholder: filled in by issue 11 work.
namespace shardmq::broker {}
