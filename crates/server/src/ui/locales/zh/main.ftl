language-name = 中文
skip-to-content = 跳到正文
nav-label = 主菜单
nav-dashboard = 概览
nav-intel = 情报
nav-requests = 请求
nav-sessions = 我的会话
pref-language = 语言
pref-time-zone = 时区
pref-apply = 应用
sign-out = 退出
yes = 是
no = 否

error-back = 返回概览
error-too-large = 表单过大。
error-csrf = 此表单已过期或并非来自本站。请刷新页面后重试。
error-forbidden = 您无权执行此操作。
error-not-found = 未找到。
error-throttled = 尝试次数过多。请等待一分钟后重试。
error-invalid = 请求无效。
error-internal = 服务器出错，事件已记录。
error-busy = 登录人数过多，请稍后再试。
error-language = 不支持此语言。
error-time-zone = 未知时区：请使用 Asia/Shanghai 或 UTC 这样的名称。

signin-title = 登录
signin-name = 用户名
signin-password = 密码
signin-submit = 登录
signin-failed = 用户名或密码错误。
signin-throttled = 失败次数过多。请等待一分钟后再试。

sessions-title = 我的会话
sessions-count = { $count ->
   *[other] 您有 { $count } 个打开的会话。
}
sessions-since = 登录时间
sessions-browser = 浏览器
sessions-action = 操作
sessions-current = 当前会话
sessions-revoke = 结束此会话

dashboard-title = 概览
dashboard-waiting = 等待我方处理的请求
dashboard-waiting-count = { $count ->
    [0] 没有等待我方处理的请求。
   *[other] 有 { $count } 个请求等待我方处理。
}
dashboard-recent = 本周新情报
dashboard-recent-none = 本周没有您可阅读的新内容。
dashboard-log = 透明日志
dashboard-log-none = 日志尚无检查点。
dashboard-cosignatures = { $count ->
    [0] 尚无对等节点联署此检查点。
   *[other] 已由 { $count } 个对等节点联署。
}

intel-title = 情报
intel-none = 您无权阅读任何集合。
intel-filter-type = 对象类型
intel-filter = 筛选
intel-empty = 没有可显示的对象。
intel-objects = 对象
intel-next = 下一页

object-type = 类型
object-name = 名称
object-id = 标识符
object-markings = 标记
object-version = 版本
object-back = 返回集合
object-no-tlp = 无 TLP 标记
object-versions = { $count ->
   *[other] { $count } 个版本
}
object-json = STIX JSON
object-who-else = 还有谁见过
object-who-else-no-values = 此对象没有可查询的可观察值。
object-who-else-suppressed = 在警告列表中，不做关联：
object-who-else-count = { $count ->
    [0] 您可读取的其他对象中没有包含此值的。
   *[other] 您可读取的其他对象中有 { $count } 个包含此值
}
object-who-else-members = { $count ->
   *[other] （来自 { $count } 个成员）。
}

tlp-clear = TLP:CLEAR：披露不受限制。
tlp-green = TLP:GREEN：有限披露，限于社区内部。
tlp-amber = TLP:AMBER：有限披露，限于接收方组织及其客户。
tlp-amber-strict = TLP:AMBER+STRICT：有限披露，仅限接收方组织。
tlp-red = TLP:RED：仅限指定的个人接收者知悉。
handling-h0 = 仅用于执法目的。
handling-h1 = 未经提供方同意，不得用于司法程序。
handling-h2 = 未经提供方同意，不得进一步传播。
handling-h3 = 其他限制，见文字说明。

requests-title = 合作请求
requests-new = 起草新请求
requests-inbox = 收件箱：向我方提出的请求
requests-outbox = 发件箱：我方提出的请求
requests-count = { $count ->
    [0] 没有请求。
   *[other] { $count } 个请求。
}

request-id = 标识符
request-kind = 类别
request-partner = 合作方
request-requester = 请求方成员
request-requested = 被请求方成员
request-state = 状态
request-due = 截止时间（您的时区）
request-due-partner = 截止时间（合作方时区）
request-emergency = 紧急
request-overdue = 已逾期
request-acts = 可执行的操作
request-reason = 理由
request-until = 保全至（RFC 3339）
request-link = 后续请求
request-conditions = 条件
request-note = 备注
request-timeline = 已签名的历史
request-at = 时间
request-by = 操作人
request-signature = 签名
request-document = 请求文件

draft-title = 新请求
draft-choose = 选择
draft-to = 被请求方成员（identity--…）
draft-emergency = 紧急情况（对生命或安全的紧迫威胁）
draft-emergency-justification = 紧急情况的理由
draft-source = 依据
draft-save = 保存为草稿

kind-assistance = 协助（24/7 网络）
kind-preservation = 快速保全
kind-disclosure = 快速披露流量数据
kind-production = 提供令
kind-mla = 司法协助

field-authority-name = 请求机关
field-authority-contact = 机关联系方式
field-authority-time-zone = 机关所在时区
field-legal-basis-instrument = 法律文书
field-summary = 事实摘要
field-offence = 犯罪
field-details-incident = 事件
field-details-help-sought = 所需帮助
field-details-data = 需保全的数据
field-details-relation-to-offence = 数据与犯罪的关联
field-details-custodian = 数据保管人
field-details-necessity = 保全的必要性
field-details-mla-to-follow = 将随后提出司法协助请求
field-details-preservation = 此前的保全
field-details-communication = 相关通信
field-details-categories = 数据类别（以逗号分隔）
field-details-time-range-from = 自
field-details-time-range-to = 至
field-details-time-range-time-zone = 时间段所在时区
field-details-addressee = 接收命令的服务提供商
field-details-purpose = 请求目的
field-details-assistance-sought = 所需协助
field-details-laws = 适用法律
field-details-proceedings = 相关程序

state-draft = 草稿
state-submitted = 已提交
state-delivered = 已送达
state-acknowledged = 已确认收到
state-under-review = 审查中
state-info-requested = 已要求补充信息
state-accepted = 已接受
state-accepted-with-conditions = 有条件接受
state-postponed = 已推迟
state-refused = 已拒绝
state-in-execution = 执行中
state-partially-executed = 部分执行
state-executed = 已执行
state-closed = 已结案
state-preserved = 数据已保全
state-extended = 已延长
state-linked = 已关联
state-lapsed = 已失效
state-released = 数据已解除保全
state-withdrawn = 已撤回

act-submit = 签名并提交
act-deliver = 已送达
act-retrieve = 已打开
act-acknowledge = 确认收到
act-review = 开始审查
act-request-info = 要求补充信息
act-supply-info = 提供信息
act-accept = 接受
act-accept-with-conditions = 有条件接受
act-accept-conditions = 接受条件
act-postpone = 推迟
act-resume = 恢复
act-refuse = 拒绝
act-execute = 开始执行
act-execute-partially = 部分交付
act-complete = 完成
act-close = 结案
act-preserve = 确认保全
act-extend = 延长保全
act-link = 关联后续请求
act-lapse = 记录失效
act-release = 解除数据保全
act-withdraw = 撤回

reason-essential-interests = 根本利益（主权、安全、公共秩序）
reason-political-offence = 政治犯罪
reason-dual-criminality = 不符合双重犯罪原则
reason-immunity = 豁免或特权
reason-fundamental-rights = 基本权利
reason-ne-bis-in-idem = 一事不再理
reason-incomplete = 请求不完整或明显有误
reason-data-not-held = 未持有该数据
reason-impossible = 无法执行
reason-other = 其他理由（见备注）
