// sarama_client drives Debian's sarama (1.22) for the integration tests: produce, consume and
// admin operations, with records and results as JSON lines so that the Python tests compare
// what every client sees the same way.
//
//	sarama_client produce -brokers H:P -topic T -codec gzip < records.jsonl   (prints offsets)
//	sarama_client consume -brokers H:P -topic T -partitions N                 (prints records)
//	sarama_client admin -brokers H:P < ops.jsonl                              (prints results)
//	sarama_client group -brokers H:P -topic T -group G -assignor range -client-id C (prints events)
//
// A record line: {"p":partition,"k":base64,"v":base64,"h":[["name",base64]],"ts":ms}.
//
// `group` is one member of a consumer group (sarama.ConsumerGroup) until SIGTERM, printing
// events as JSON lines: {"ev":"assigned"|"revoked","member","gen","claims":{topic:[partitions]}}
// at the setup and cleanup of each session, {"ev":"record","t","p","o","v"} per record (marked,
// then committed by sarama every 100 ms and when the session ends), and {"ev":"closed"} once it
// has left the group.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
)

type header struct {
	Key   string
	Value []byte
}

func (h header) MarshalJSON() ([]byte, error) { return json.Marshal([]interface{}{h.Key, h.Value}) }

func (h *header) UnmarshalJSON(data []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(data, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("header %s: want [name, base64]", data)
	}
	if err := json.Unmarshal(pair[0], &h.Key); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &h.Value)
}

type record struct {
	Partition int32    `json:"p"`
	Offset    int64    `json:"o"`
	Key       []byte   `json:"k"`
	Value     []byte   `json:"v"`
	Headers   []header `json:"h"`
	Timestamp int64    `json:"ts"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sarama_client: "+format+"\n", args...)
	os.Exit(1)
}

func config(version string, codec string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "sluice-itest-sarama"
	if version != "default" {
		v, err := sarama.ParseKafkaVersion(version)
		if err != nil {
			fail("%v", err)
		}
		c.Version = v
	}
	codecs := map[string]sarama.CompressionCodec{"none": sarama.CompressionNone,
		"gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
		"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
	cc, ok := codecs[codec]
	if !ok {
		fail("unknown codec %q", codec)
	}
	c.Producer.Compression = cc
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.RequiredAcks = sarama.WaitForLocal
	c.Producer.Return.Successes = true
	c.Producer.Flush.Messages = 500
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	c.Net.MaxOpenRequests = 1 // keeps per-partition order even across retries
	c.Metadata.Retry.Max = 10
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Consumer.Return.Errors = true
	c.Admin.Timeout = 30 * time.Second
	return c
}

func produce(brokers []string, cfg *sarama.Config, topic string) {
	p, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		fail("producer: %v", err)
	}
	var records []record
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var r record
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fail("input: %v", err)
		}
		records = append(records, r)
	}
	go func() {
		for _, r := range records {
			m := &sarama.ProducerMessage{Topic: topic, Partition: r.Partition,
				Key: sarama.ByteEncoder(r.Key), Value: sarama.ByteEncoder(r.Value),
				Timestamp: time.Unix(0, r.Timestamp*int64(time.Millisecond))}
			for _, h := range r.Headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
			}
			p.Input() <- m
		}
	}()
	out := json.NewEncoder(os.Stdout)
	failed := 0
	for done := 0; done < len(records); done++ {
		select {
		case m := <-p.Successes():
			out.Encode(map[string]int64{"p": int64(m.Partition), "o": m.Offset})
		case e := <-p.Errors():
			failed++
			fmt.Fprintf(os.Stderr, "produce error: %v\n", e.Err)
		}
	}
	p.Close()
	if failed > 0 {
		fail("%d records failed", failed)
	}
}

func consume(brokers []string, cfg *sarama.Config, topic string, partitions int) {
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		fail("client: %v", err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail("consumer: %v", err)
	}
	out := json.NewEncoder(os.Stdout)
	for p := int32(0); p < int32(partitions); p++ {
		end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			fail("end offset of %d: %v", p, err)
		}
		if end == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			fail("consume %d: %v", p, err)
		}
		for next := int64(0); next < end; {
			select {
			case m := <-pc.Messages():
				r := record{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value,
					Timestamp: m.Timestamp.UnixNano() / int64(time.Millisecond)}
				for _, h := range m.Headers {
					r.Headers = append(r.Headers, header{string(h.Key), h.Value})
				}
				out.Encode(r)
				next = m.Offset + 1
			case e := <-pc.Errors():
				fail("consume %d: %v", p, e)
			case <-time.After(60 * time.Second):
				fail("partition %d: nothing after offset %d", p, next)
			}
		}
		pc.Close()
	}
	consumer.Close()
	client.Close()
}

// op is one admin operation; the result is {"error": code, "message": text} plus data.
type op struct {
	Op           string             `json:"op"`
	Topic        string             `json:"topic"`
	Partitions   int32              `json:"partitions"`
	Replication  int16              `json:"replication"`
	Configs      map[string]*string `json:"configs"`
	ValidateOnly bool               `json:"validate_only"`
	Names        []string           `json:"names"`
	Offsets      map[int32]int64    `json:"offsets"`
	Partition    int32              `json:"partition"`
	Timestamp    int64              `json:"timestamp"`
}

func errorResult(err error) map[string]interface{} {
	if err == nil {
		return map[string]interface{}{"error": 0}
	}
	code := -1
	switch e := err.(type) {
	case *sarama.TopicError:
		code = int(e.Err)
	case *sarama.TopicPartitionError:
		code = int(e.Err)
	case sarama.KError:
		code = int(e)
	}
	return map[string]interface{}{"error": code, "message": err.Error()}
}

func admin(brokers []string, cfg *sarama.Config) {
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		fail("client: %v", err)
	}
	a, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		fail("admin: %v", err)
	}
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var o op
		if err := json.Unmarshal(in.Bytes(), &o); err != nil {
			fail("input: %v", err)
		}
		var res map[string]interface{}
		switch o.Op {
		case "create":
			res = errorResult(a.CreateTopic(o.Topic, &sarama.TopicDetail{NumPartitions: o.Partitions,
				ReplicationFactor: o.Replication, ConfigEntries: o.Configs}, o.ValidateOnly))
		case "delete":
			res = errorResult(a.DeleteTopic(o.Topic))
		case "create_partitions":
			res = errorResult(a.CreatePartitions(o.Topic, o.Partitions, nil, o.ValidateOnly))
		case "alter_configs":
			res = errorResult(a.AlterConfig(sarama.TopicResource, o.Topic, o.Configs, o.ValidateOnly))
		case "describe_configs_v0":
			// The admin API's own call: sarama 1.22 always sends DescribeConfigs v0.
			entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource,
				Name: o.Topic, ConfigNames: o.Names})
			res = errorResult(err)
			res["configs"] = entryMap(entries)
		case "describe_configs":
			res = describeConfigsV1(client, o)
		case "describe_topic":
			meta, err := a.DescribeTopics([]string{o.Topic})
			res = errorResult(err)
			if err == nil {
				res["error"] = int(meta[0].Err)
				res["partitions"] = len(meta[0].Partitions)
			}
		case "offset_by_time":
			// ListOffsets for the first offset at or after a timestamp (-1: latest, -2: earliest).
			offset, err := client.GetOffset(o.Topic, o.Partition, o.Timestamp)
			res = errorResult(err)
			res["offset"] = offset
		case "delete_records":
			res = errorResult(a.DeleteRecords(o.Topic, o.Offsets))
		default:
			fail("unknown op %q", o.Op)
		}
		res["op"] = o.Op
		out.Encode(res)
	}
	a.Close()
	client.Close()
}

func entryMap(entries []sarama.ConfigEntry) map[string]interface{} {
	m := map[string]interface{}{}
	for _, e := range entries {
		m[e.Name] = map[string]interface{}{"value": e.Value, "default": e.Default,
			"source": int(e.Source), "read_only": e.ReadOnly}
	}
	return m
}

// describeConfigsV1 sends sarama's DescribeConfigsRequest at v1 (what Kafka 4 still serves)
// through sarama's broker API, since the admin API in this sarama only sends v0.
func describeConfigsV1(client sarama.Client, o op) map[string]interface{} {
	b, err := client.Controller()
	if err != nil {
		return errorResult(err)
	}
	rsp, err := b.DescribeConfigs(&sarama.DescribeConfigsRequest{Version: 1,
		Resources: []*sarama.ConfigResource{{Type: sarama.TopicResource, Name: o.Topic,
			ConfigNames: o.Names}}})
	if err != nil {
		return errorResult(err)
	}
	r := rsp.Resources[0]
	res := map[string]interface{}{"error": int(r.ErrorCode), "message": r.ErrorMsg}
	var entries []sarama.ConfigEntry
	for _, e := range r.Configs {
		entries = append(entries, *e)
	}
	res["configs"] = entryMap(entries)
	return res
}

// groupHandler prints each session's claims and each record as JSON lines; stdout is written
// under a lock, one line per write, so that a test reading the pipe sees whole events even when
// the process is killed.
type groupHandler struct {
	mu  sync.Mutex
	out *json.Encoder
}

func (h *groupHandler) emit(event map[string]interface{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.out.Encode(event)
}

func (h *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.emit(map[string]interface{}{"ev": "assigned", "member": s.MemberID(),
		"gen": s.GenerationID(), "claims": s.Claims()})
	return nil
}

func (h *groupHandler) Cleanup(s sarama.ConsumerGroupSession) error {
	h.emit(map[string]interface{}{"ev": "revoked", "member": s.MemberID(),
		"gen": s.GenerationID(), "claims": s.Claims()})
	return nil
}

// ConsumeClaim prints each record and marks it; sarama commits what is marked every
// Consumer.Offsets.CommitInterval and once more when the session ends.
func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.emit(map[string]interface{}{"ev": "record", "t": m.Topic, "p": m.Partition,
			"o": m.Offset, "v": string(m.Value)})
		s.MarkMessage(m, "")
	}
	return nil
}

// group runs one member of a consumer group until SIGTERM, then ends its session (a last
// commit) and leaves the group.
func group(brokers []string, cfg *sarama.Config, topic, groupID, assignor string, sessionMs int) {
	switch assignor {
	case "range":
		cfg.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRange
	case "roundrobin":
		cfg.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRoundRobin
	default:
		fail("unknown assignor %q", assignor)
	}
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = time.Duration(sessionMs) * time.Millisecond
	cfg.Consumer.Group.Heartbeat.Interval = time.Duration(sessionMs/10) * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = time.Duration(sessionMs) * time.Millisecond
	cfg.Consumer.Group.Rebalance.Retry.Max = 20
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 200 * time.Millisecond
	cfg.Consumer.Return.Errors = true
	g, err := sarama.NewConsumerGroup(brokers, groupID, cfg)
	if err != nil {
		fail("consumer group: %v", err)
	}
	h := &groupHandler{out: json.NewEncoder(os.Stdout)}
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		cancel()
	}()
	go func() {
		for e := range g.Errors() {
			fmt.Fprintf(os.Stderr, "group error: %v\n", e)
		}
	}()
	for ctx.Err() == nil {
		if err := g.Consume(ctx, []string{topic}, h); err != nil {
			fail("consume: %v", err)
		}
	}
	if err := g.Close(); err != nil {
		fail("close: %v", err)
	}
	h.emit(map[string]interface{}{"ev": "closed"})
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: sarama_client produce|consume|admin [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	brokers := fs.String("brokers", "", "bootstrap host:port list")
	topic := fs.String("topic", "", "topic")
	codec := fs.String("codec", "none", "none, gzip, snappy, lz4 or zstd")
	partitions := fs.Int("partitions", 1, "partitions to consume")
	version := fs.String("version", sarama.MaxVersion.String(), "Kafka version to speak, or default")
	groupID := fs.String("group", "", "consumer group (group)")
	assignor := fs.String("assignor", "range", "range or roundrobin (group)")
	sessionMs := fs.Int("session-ms", 6000, "session timeout in ms (group)")
	clientID := fs.String("client-id", "sluice-itest-sarama", "client id")
	fs.Parse(os.Args[2:])
	cfg := config(*version, *codec)
	cfg.ClientID = *clientID
	list := strings.Split(*brokers, ",")
	switch os.Args[1] {
	case "produce":
		produce(list, cfg, *topic)
	case "consume":
		consume(list, cfg, *topic, *partitions)
	case "admin":
		admin(list, cfg)
	case "group":
		group(list, cfg, *topic, *groupID, *assignor, *sessionMs)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
