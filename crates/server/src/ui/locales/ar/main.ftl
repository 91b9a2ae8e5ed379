language-name = العربية
skip-to-content = انتقل إلى المحتوى
nav-label = القائمة الرئيسية
nav-dashboard = لوحة المتابعة
nav-intel = المعلومات الاستخبارية
nav-requests = الطلبات
nav-sessions = جلساتي
pref-language = اللغة
pref-time-zone = المنطقة الزمنية
pref-apply = تطبيق
sign-out = تسجيل الخروج
yes = نعم
no = لا

error-back = العودة إلى لوحة المتابعة
error-too-large = النموذج كبير جدًا.
error-csrf = انتهت صلاحية هذا النموذج أو لم يصدر عن هذا الموقع. أعد تحميل الصفحة وحاول مرة أخرى.
error-forbidden = غير مسموح لك بالقيام بذلك.
error-not-found = غير موجود.
error-throttled = محاولات كثيرة جدًا. انتظر دقيقة ثم حاول مرة أخرى.
error-invalid = الطلب غير صالح.
error-internal = حدث خطأ في الخادم، وقد سُجّلت الواقعة.
error-busy = عدد المستخدمين المتصلين كبير جدًا. حاول لاحقًا.
error-language = هذه اللغة غير متاحة.
error-time-zone = منطقة زمنية غير معروفة: استخدم اسمًا مثل Asia/Riyadh أو UTC.

signin-title = تسجيل الدخول
signin-name = اسم المستخدم
signin-password = كلمة المرور
signin-submit = دخول
signin-failed = اسم المستخدم أو كلمة المرور غير صحيحة.
signin-throttled = محاولات فاشلة كثيرة جدًا. انتظر دقيقة قبل المحاولة مجددًا.

sessions-title = جلساتي
sessions-count = { $count ->
    [zero] ليست لديك أي جلسة مفتوحة.
    [one] لديك جلسة مفتوحة واحدة.
    [two] لديك جلستان مفتوحتان.
    [few] لديك { $count } جلسات مفتوحة.
    [many] لديك { $count } جلسة مفتوحة.
   *[other] لديك { $count } جلسة مفتوحة.
}
sessions-since = وقت الدخول
sessions-browser = المتصفح
sessions-action = إجراء
sessions-current = هذه الجلسة
sessions-revoke = إنهاء هذه الجلسة

dashboard-title = لوحة المتابعة
dashboard-waiting = طلبات بانتظار إجراء منا
dashboard-waiting-count = { $count ->
    [0] لا يوجد طلب بانتظار إجراء منا.
    [one] طلب واحد بانتظار إجراء منا.
    [two] طلبان بانتظار إجراء منا.
    [few] { $count } طلبات بانتظار إجراء منا.
   *[other] { $count } طلبًا بانتظار إجراء منا.
}
dashboard-recent = معلومات جديدة هذا الأسبوع
dashboard-recent-none = لا جديد هذا الأسبوع مما يحق لك الاطلاع عليه.
dashboard-log = سجل الشفافية
dashboard-log-none = لا توجد في السجل نقطة تحقق بعد.
dashboard-cosignatures = { $count ->
    [0] لم يوقّع أي نظير على نقطة التحقق هذه بعد.
    [one] وقّع عليها نظير واحد.
    [two] وقّع عليها نظيران.
    [few] وقّع عليها { $count } نظراء.
   *[other] وقّع عليها { $count } نظيرًا.
}

intel-title = المعلومات الاستخبارية
intel-none = لا يحق لك الاطلاع على أي مجموعة.
intel-filter-type = نوع الكائن
intel-filter = تصفية
intel-empty = لا توجد كائنات لعرضها.
intel-objects = الكائنات
intel-next = الصفحة التالية

object-type = النوع
object-name = الاسم
object-id = المعرّف
object-markings = العلامات
object-version = الإصدار
object-back = العودة إلى المجموعة
object-no-tlp = بلا علامة TLP
object-versions = { $count ->
    [one] إصدار واحد
    [two] إصداران
    [few] { $count } إصدارات
   *[other] { $count } إصدارًا
}
object-json = STIX JSON
object-who-else = من رأى هذا أيضًا
object-who-else-no-values = لا يحتوي هذا الكائن على أي قيمة قابلة للرصد للبحث عنها.
object-who-else-suppressed = مدرجة في قائمة تحذير، لا تُربط:
object-who-else-count = { $count ->
    [0] لا يحتوي عليها أي كائن آخر يمكنك قراءته.
    [one] يحتوي عليها كائن آخر واحد يمكنك قراءته
    [two] يحتوي عليها كائنان آخران يمكنك قراءتهما
    [few] يحتوي عليها { $count } كائنات أخرى يمكنك قراءتها
   *[other] يحتوي عليها { $count } كائنًا آخر يمكنك قراءته
}
object-who-else-members = { $count ->
    [one] (عضو واحد).
    [two] (عضوان).
    [few] ({ $count } أعضاء).
   *[other] ({ $count } عضوًا).
}

tlp-clear = TLP:CLEAR: الإفصاح غير مقيّد.
tlp-green = TLP:GREEN: إفصاح محدود داخل المجتمع.
tlp-amber = TLP:AMBER: إفصاح محدود لمنظمة المتلقي وعملائها.
tlp-amber-strict = TLP:AMBER+STRICT: إفصاح محدود لمنظمة المتلقي فقط.
tlp-red = TLP:RED: للمتلقين المعنيين بأشخاصهم فقط.
handling-h0 = لأغراض إنفاذ القانون فقط.
handling-h1 = لا يُستخدم في الإجراءات القضائية دون موافقة المصدر.
handling-h2 = لا يُعاد نشره دون موافقة المصدر.
handling-h3 = قيود أخرى مبيّنة في النص.

requests-title = طلبات التعاون
requests-new = صياغة طلب جديد
requests-inbox = الوارد: الطلبات الموجهة إلينا
requests-outbox = الصادر: طلباتنا
requests-count = { $count ->
    [0] لا توجد طلبات.
    [one] طلب واحد.
    [two] طلبان.
    [few] { $count } طلبات.
   *[other] { $count } طلبًا.
}

request-id = المعرّف
request-kind = النوع
request-partner = الشريك
request-requester = العضو الطالب
request-requested = العضو المطلوب منه
request-state = الحالة
request-due = الموعد النهائي (بتوقيتك)
request-due-partner = الموعد النهائي (بتوقيت الشريك)
request-emergency = عاجل
request-overdue = متأخر
request-acts = ما يمكنك القيام به
request-reason = السبب
request-until = الحفظ حتى (RFC 3339)
request-link = طلب المتابعة
request-conditions = الشروط
request-note = ملاحظة
request-timeline = السجل الموقّع
request-at = في
request-by = بواسطة
request-signature = التوقيع
request-document = وثيقة الطلب

draft-title = طلب جديد
draft-choose = اختيار
draft-to = العضو المطلوب منه (identity--…)
draft-emergency = حالة عاجلة (خطر وشيك على الحياة أو السلامة)
draft-emergency-justification = مبررات الاستعجال
draft-source = مطلوب بموجب
draft-save = حفظ كمسودة

kind-assistance = مساعدة (شبكة 24/7)
kind-preservation = الحفظ العاجل
kind-disclosure = الكشف العاجل عن بيانات الحركة
kind-production = أمر تقديم
kind-mla = المساعدة القانونية المتبادلة

field-authority-name = السلطة الطالبة
field-authority-contact = جهة الاتصال لدى السلطة
field-authority-time-zone = المنطقة الزمنية للسلطة
field-legal-basis-instrument = الصك القانوني
field-summary = ملخص الوقائع
field-offence = الجريمة
field-details-incident = الحادث
field-details-help-sought = المساعدة المطلوبة
field-details-data = البيانات المطلوب حفظها
field-details-relation-to-offence = صلة البيانات بالجريمة
field-details-custodian = حائز البيانات
field-details-necessity = ضرورة الحفظ
field-details-mla-to-follow = سيلي ذلك طلب مساعدة متبادلة
field-details-preservation = الحفظ السابق
field-details-communication = الاتصال المعني
field-details-categories = فئات البيانات (مفصولة بفواصل)
field-details-time-range-from = من
field-details-time-range-to = إلى
field-details-time-range-time-zone = المنطقة الزمنية للفترة
field-details-addressee = مقدم الخدمة الموجَّه إليه الأمر
field-details-purpose = الغرض من الطلب
field-details-assistance-sought = المساعدة المطلوبة
field-details-laws = القانون الواجب التطبيق
field-details-proceedings = الإجراءات المعنية

state-draft = مسودة
state-submitted = مُرسل
state-delivered = مُستلم
state-acknowledged = تم الإقرار بالاستلام
state-under-review = قيد الدراسة
state-info-requested = طُلبت معلومات
state-accepted = مقبول
state-accepted-with-conditions = مقبول بشروط
state-postponed = مؤجل
state-refused = مرفوض
state-in-execution = قيد التنفيذ
state-partially-executed = نُفّذ جزئيًا
state-executed = منفّذ
state-closed = مغلق
state-preserved = البيانات محفوظة
state-extended = مُمدّد
state-linked = مرتبط
state-lapsed = منقضٍ
state-released = رُفع الحفظ عن البيانات
state-withdrawn = مسحوب

act-submit = التوقيع والإرسال
act-deliver = تم الاستلام
act-retrieve = تم الفتح
act-acknowledge = الإقرار بالاستلام
act-review = بدء الدراسة
act-request-info = طلب معلومات
act-supply-info = تقديم معلومات
act-accept = قبول
act-accept-with-conditions = القبول بشروط
act-accept-conditions = قبول الشروط
act-postpone = تأجيل
act-resume = استئناف
act-refuse = رفض
act-execute = بدء التنفيذ
act-execute-partially = تسليم جزئي
act-complete = إتمام
act-close = إغلاق
act-preserve = تأكيد الحفظ
act-extend = تمديد الحفظ
act-link = ربط طلب المتابعة
act-lapse = تسجيل انقضاء المدة
act-release = رفع الحفظ عن البيانات
act-withdraw = سحب

reason-essential-interests = المصالح الأساسية (السيادة، الأمن، النظام العام)
reason-political-offence = جريمة سياسية
reason-dual-criminality = عدم استيفاء شرط ازدواجية التجريم
reason-immunity = الحصانات أو الامتيازات
reason-fundamental-rights = الحقوق الأساسية
reason-ne-bis-in-idem = عدم جواز المحاكمة على الفعل ذاته مرتين
reason-incomplete = طلب ناقص أو خاطئ بشكل واضح
reason-data-not-held = البيانات غير محفوظة لدينا
reason-impossible = التنفيذ مستحيل
reason-other = سبب آخر (في الملاحظة)
