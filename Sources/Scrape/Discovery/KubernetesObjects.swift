/// The parts of the Kubernetes Pod API (core/v1) that pod discovery reads.
struct PodList: Decodable {
    struct ListMeta: Decodable { var resourceVersion: String? }
    var metadata: ListMeta?
    var items: [Pod]
}

struct Pod: Decodable {
    struct OwnerReference: Decodable {
        var kind: String
        var name: String
        var controller: Bool?
    }

    struct Metadata: Decodable {
        var name: String
        var namespace: String?
        var uid: String?
        var labels: [String: String]?
        var annotations: [String: String]?
        var ownerReferences: [OwnerReference]?
        var resourceVersion: String?
    }

    struct ContainerPort: Decodable {
        var name: String?
        var containerPort: Int
        var `protocol`: String?
    }

    struct Container: Decodable {
        var name: String
        var image: String?
        var ports: [ContainerPort]?
    }

    struct Spec: Decodable {
        var nodeName: String?
        var containers: [Container]?
        var initContainers: [Container]?
    }

    struct Condition: Decodable {
        var type: String
        var status: String
    }

    struct Status: Decodable {
        var podIP: String?
        var hostIP: String?
        var phase: String?
        var conditions: [Condition]?
    }

    var metadata: Metadata
    var spec: Spec?
    var status: Status?
}

/// One line of a watch stream.
struct WatchEvent: Decodable {
    struct Status: Decodable {
        var code: Int?
        var message: String?
    }

    var type: String
    var object: Pod?

    /// For ERROR events the object is a Status; decoded separately.
    enum CodingKeys: String, CodingKey { case type, object }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        object = type == "ERROR" || type == "BOOKMARK" ? nil : try c.decodeIfPresent(Pod.self, forKey: .object)
        if type == "BOOKMARK" { object = try? c.decodeIfPresent(Pod.self, forKey: .object) }
    }
}

struct WatchError: Decodable {
    struct Object: Decodable { var code: Int? }
    var object: Object?
}
