// expo UI texts (zh-CN). Every key must also exist in expo.en.js.
export default {
};
