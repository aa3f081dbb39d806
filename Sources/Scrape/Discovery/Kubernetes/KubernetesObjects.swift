/// The parts of the Kubernetes API objects that discovery reads (core/v1, discovery.k8s.io/v1,
/// networking.k8s.io/v1). Everything else in an answer is skipped by the decoder.

/// An object with metadata: every kind discovery watches.
protocol KubernetesObject: Decodable, Sendable {
    var metadata: ObjectMeta { get }
}

extension KubernetesObject {
    /// `namespace/name` (`name` for cluster-scoped objects).
    var key: String { metadata.namespace.map { $0 + "/" + metadata.name } ?? metadata.name }
}

struct ObjectMeta: Decodable, Sendable {
    struct OwnerReference: Decodable, Sendable {
        var kind: String
        var name: String
        var controller: Bool?
    }

    var name: String
    var namespace: String?
    var uid: String?
    var labels: [String: String]?
    var annotations: [String: String]?
    var ownerReferences: [OwnerReference]?
    var resourceVersion: String?
}

/// A reference from an endpoint to the object behind it (a pod, usually).
struct ObjectReference: Decodable, Sendable {
    var kind: String?
    var name: String?
    var namespace: String?
}

/// The kinds discovery watches, named as the API names them.
enum K8s {
    struct Pod: KubernetesObject {
        struct ContainerPort: Decodable, Sendable {
            var name: String?
            var containerPort: Int
            var `protocol`: String?
        }

        struct Container: Decodable, Sendable {
            var name: String
            var image: String?
            var ports: [ContainerPort]?
        }

        struct Spec: Decodable, Sendable {
            var nodeName: String?
            var containers: [Container]?
            var initContainers: [Container]?
        }

        struct Condition: Decodable, Sendable {
            var type: String
            var status: String
        }

        struct ContainerStatus: Decodable, Sendable {
            var name: String
            var containerID: String?
        }

        struct Status: Decodable, Sendable {
            var podIP: String?
            var hostIP: String?
            var phase: String?
            var conditions: [Condition]?
            var containerStatuses: [ContainerStatus]?
            var initContainerStatuses: [ContainerStatus]?
        }

        var metadata: ObjectMeta
        var spec: Spec?
        var status: Status?
    }

    struct Node: KubernetesObject {
        struct Address: Decodable, Sendable {
            var type: String
            var address: String
        }

        struct DaemonEndpoint: Decodable, Sendable { var Port: Int }
        struct DaemonEndpoints: Decodable, Sendable { var kubeletEndpoint: DaemonEndpoint? }

        struct Spec: Decodable, Sendable { var providerID: String? }

        struct Status: Decodable, Sendable {
            var addresses: [Address]?
            var daemonEndpoints: DaemonEndpoints?
        }

        var metadata: ObjectMeta
        var spec: Spec?
        var status: Status?
    }

    struct Service: KubernetesObject {
        struct Port: Decodable, Sendable {
            var name: String?
            var `protocol`: String?
            var port: Int
        }

        struct Spec: Decodable, Sendable {
            var ports: [Port]?
            var clusterIP: String?
            var type: String?
            var externalName: String?
            var loadBalancerIP: String?
        }

        var metadata: ObjectMeta
        var spec: Spec?
    }

    struct Endpoints: KubernetesObject {
        struct Address: Decodable, Sendable {
            var ip: String
            var hostname: String?
            var nodeName: String?
            var targetRef: ObjectReference?
        }

        struct Port: Decodable, Sendable {
            var name: String?
            var port: Int
            var `protocol`: String?
            var appProtocol: String?
        }

        struct Subset: Decodable, Sendable {
            var addresses: [Address]?
            var notReadyAddresses: [Address]?
            var ports: [Port]?
        }

        var metadata: ObjectMeta
        var subsets: [Subset]?
    }

    struct EndpointSlice: KubernetesObject {
        struct Conditions: Decodable, Sendable {
            var ready: Bool?
            var serving: Bool?
            var terminating: Bool?
        }

        struct Endpoint: Decodable, Sendable {
            var addresses: [String]
            var conditions: Conditions?
            var hostname: String?
            var nodeName: String?
            var targetRef: ObjectReference?
            /// Topology labels (v1 keeps them only here, usually empty).
            var deprecatedTopology: [String: String]?
        }

        struct Port: Decodable, Sendable {
            var name: String?
            var port: Int?
            var `protocol`: String?
            var appProtocol: String?
        }

        var metadata: ObjectMeta
        var addressType: String?
        var endpoints: [Endpoint]?
        var ports: [Port]?
    }

    struct Ingress: KubernetesObject {
        struct TLS: Decodable, Sendable { var hosts: [String]? }
        struct Path: Decodable, Sendable { var path: String? }
        struct HTTP: Decodable, Sendable { var paths: [Path]? }
        struct Rule: Decodable, Sendable {
            var host: String?
            var http: HTTP?
        }

        struct Spec: Decodable, Sendable {
            var ingressClassName: String?
            var tls: [TLS]?
            var rules: [Rule]?
        }

        var metadata: ObjectMeta
        var spec: Spec?
    }
}

/// A list answer: one page of objects, the list's resource version and the continue token.
struct ObjectList<Object: Decodable>: Decodable {
    struct ListMeta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }

    var metadata: ListMeta?
    var items: [Object]?
}

/// The Status object of an error answer or a watch ERROR event.
struct StatusObject: Decodable, Sendable {
    var code: Int?
    var reason: String?
    var message: String?
}

/// One line of a watch stream.
enum WatchEvent<Object: Decodable>: Decodable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// A BOOKMARK: nothing changed, but the stream is at this resource version.
    case bookmark(String)
    case error(StatusObject)

    struct Bookmark: Decodable {
        struct Meta: Decodable { var resourceVersion: String? }
        var metadata: Meta?
    }

    enum CodingKeys: String, CodingKey { case type, object }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "ADDED": self = .added(try c.decode(Object.self, forKey: .object))
        case "MODIFIED": self = .modified(try c.decode(Object.self, forKey: .object))
        case "DELETED": self = .deleted(try c.decode(Object.self, forKey: .object))
        case "BOOKMARK": self = .bookmark(try c.decode(Bookmark.self, forKey: .object).metadata?.resourceVersion ?? "")
        case "ERROR": self = .error(try c.decode(StatusObject.self, forKey: .object))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown watch event type \(other)")
        }
    }
}
